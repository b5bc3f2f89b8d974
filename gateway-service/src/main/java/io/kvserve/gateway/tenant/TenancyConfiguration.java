package io.kvserve.gateway.tenant;

import io.kvserve.gateway.admin.AdminHandler;
import io.kvserve.gateway.admin.AdminRoutes;
import io.kvserve.gateway.quota.QuotaService;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.InstantSource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * Tenants, keys, quotas and the admin API, wired (config: {@link TenancyProperties}; docs:
 * gateway-service/README.md). Beans: {@code tenancyRedis}, {@code tenantStore},
 * {@code keyAuthenticator}, {@code quotaService}, {@code adminHandler}, {@code adminRoutes}, {@code tenancy}
 * (health) and the gauge {@code kvserve_gateway_redis_up}.
 */
@Configuration(proxyBeanMethods = false)
public class TenancyConfiguration {

    @Bean(destroyMethod = "close")
    TenancyRedis tenancyRedis(TenancyProperties properties, MeterRegistry meters) {
        TenancyRedis redis = new TenancyRedis(properties.redis());
        Gauge.builder("kvserve_gateway_redis_up", redis.status(), s -> s.up() ? 1 : 0)
                .description("1 while the gateway's tenancy Redis answers, 0 during an outage")
                .register(meters);
        return redis;
    }

    @Bean
    TenantStore tenantStore(TenancyRedis redis, TenancyProperties properties) {
        return new TenantStore(redis::connection, properties.redis().keyPrefix(), redis.status());
    }

    @Bean
    KeyAuthenticator keyAuthenticator(TenantStore store, TenancyRedis redis, TenancyProperties properties) {
        return new KeyAuthenticator(store, redis.status(), properties.redisOutage(), properties.auth(),
                InstantSource.system());
    }

    @Bean
    QuotaService quotaService(TenancyRedis redis, TenancyProperties properties, MeterRegistry meters) {
        return new QuotaService(redis::connection, properties.redis().keyPrefix(), redis.status(),
                properties.redisOutage(), properties.quota().leaseTtl(), properties.quota().usageRetention(),
                InstantSource.system(), meters);
    }

    @Bean
    AdminHandler adminHandler(TenantStore store, QuotaService quotas, KeyAuthenticator authenticator,
                              TenancyProperties properties) {
        return new AdminHandler(store, quotas, authenticator, properties.admin().operatorToken(),
                properties.admin().maxBodyBytes(), InstantSource.system());
    }

    @Bean
    RouterFunction<ServerResponse> adminRoutes(AdminHandler handler) {
        return AdminRoutes.routes(handler);
    }

    @Bean("tenancy")
    TenancyHealthIndicator tenancyHealthIndicator(TenancyRedis redis, TenancyProperties properties) {
        return new TenancyHealthIndicator(redis.status(), properties.redisOutage());
    }
}
