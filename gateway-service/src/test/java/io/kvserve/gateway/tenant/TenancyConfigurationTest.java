package io.kvserve.gateway.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunction;

@RealRedis
class TenancyConfigurationTest {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(TenancyProperties.class)
    static class Base {
        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }
    }

    private static ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withUserConfiguration(Base.class, TenancyConfiguration.class);
    }

    @Test
    void context_defaults_bindAndWireEveryBean(RedisEndpoint endpoint) {
        runner().withPropertyValues("gateway.redis.url=" + endpoint.uri(), "gateway.admin.operator-token=t")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    TenancyProperties p = context.getBean(TenancyProperties.class);
                    assertThat(p.redis().keyPrefix()).isEqualTo("kvserve:gw:");
                    assertThat(p.redisOutage()).isEqualTo(RedisOutagePolicy.CACHED_KEYS);
                    assertThat(p.auth().cacheTtl()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(p.auth().staleTtl()).isEqualTo(Duration.ofMinutes(10));
                    assertThat(p.quota().leaseTtl()).isEqualTo(Duration.ofMinutes(15));
                    assertThat(p.redis().commandTimeout()).isEqualTo(Duration.ofMillis(500));
                    assertThat(context).hasSingleBean(KeyAuthenticator.class).hasSingleBean(QuotaService.class)
                            .hasBean("adminRoutes").hasBean("tenancy");
                    assertThat(context.getBean("adminRoutes")).isInstanceOf(RouterFunction.class);
                    HealthIndicator health = context.getBean("tenancy", HealthIndicator.class);
                    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
                    assertThat(health.health().getDetails()).containsEntry("redis", "up");
                    assertThat(context.getBean(MeterRegistry.class).get("kvserve_gateway_redis_up").gauge().value())
                            .isEqualTo(1.0);
                });
    }

    @Test
    void context_redisUnreachableAtStart_startsAndSaysSo() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        runner().withPropertyValues("gateway.redis.url=redis://127.0.0.1:" + closedPort, "gateway.redis-outage=FAIL_CLOSED")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    HealthIndicator health = context.getBean("tenancy", HealthIndicator.class);
                    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
                    assertThat(health.health().getDetails())
                            .containsEntry("redis", "unreachable (policy FAIL_CLOSED in force)");
                    assertThat(context.getBean(MeterRegistry.class).get("kvserve_gateway_redis_up").gauge().value())
                            .isZero();
                    try {
                        context.getBean(KeyAuthenticator.class).authenticate("Bearer " + ApiKeys.newKey()).block();
                        throw new AssertionError("authenticated without Redis");
                    } catch (OpenAiException e) {
                        assertThat(e.status()).isEqualTo(503);
                    }
                });
    }

    @Test
    void context_staleTtlBelowCacheTtl_failsWithAMessageThatSaysWhy(RedisEndpoint endpoint) {
        runner().withPropertyValues("gateway.redis.url=" + endpoint.uri(), "gateway.auth.cache-ttl=30s",
                        "gateway.auth.stale-ttl=10s")
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("gateway.auth.stale-ttl (PT10S) must be >= gateway.auth.cache-ttl (PT30S)"));
    }
}
