package io.kvserve.gateway;

import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.kvserve.gateway.api.ApiProperties;
import io.kvserve.gateway.api.GatewayHandler;
import io.kvserve.gateway.api.RequestHeadDeadline;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.gateway.route.CallAccounting;
import io.kvserve.gateway.route.GatewayMetrics;
import io.kvserve.gateway.route.InstanceClient;
import io.kvserve.gateway.route.ModelDirectory;
import io.kvserve.gateway.route.Relay;
import io.kvserve.gateway.route.RoutingProperties;
import io.kvserve.gateway.route.SchedulerClient;
import io.kvserve.gateway.status.RecentRequests;
import io.kvserve.gateway.status.StatusHandler;
import io.kvserve.gateway.tenant.KeyAuthenticator;
import io.kvserve.gateway.tenant.TenancyProperties;
import io.kvserve.gateway.tenant.TenancyRedis;
import io.kvserve.gateway.tenant.TenantStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.netty.NettyPipeline;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/** The gateway's routing parts, wired; tenancy (keys, quotas, admin) comes from TenancyConfiguration. */
@Configuration(proxyBeanMethods = false)
class GatewayConfiguration {

    /** Connections to the scheduler and the instances: one per open stream, kept alive between requests. */
    @Bean(destroyMethod = "dispose")
    ConnectionProvider upstreamConnections(RoutingProperties routing) {
        return ConnectionProvider.builder("kvserve-gateway-upstream")
                .maxConnections(routing.maxConnectionsPerInstance())
                .pendingAcquireMaxCount(routing.maxConnectionsPerInstance())
                .pendingAcquireTimeout(routing.connectTimeout().plusSeconds(3))
                .maxIdleTime(Duration.ofSeconds(30))
                .build();
    }

    @Bean
    WebClient upstreamWebClient(ConnectionProvider connections, RoutingProperties routing) {
        HttpClient http = HttpClient.create(connections)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) routing.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .compress(false);
        return WebClient.builder().clientConnector(new ReactorClientHttpConnector(http))
                .codecs(c -> c.defaultCodecs().maxInMemorySize(64 << 20))
                .build();
    }

    /**
     * Slow clients (slowloris) cannot hold the server: a new connection's request head must arrive
     * within {@code gateway.api.request-read-timeout}, the body within the same time after it, and a
     * kept-alive connection's next head within {@code gateway.api.keep-alive-timeout}; otherwise the
     * connection is closed.
     */
    @Bean
    NettyServerCustomizer slowClientLimits(ApiProperties api) {
        return server -> server.readTimeout(api.requestReadTimeout()).requestTimeout(api.requestReadTimeout())
                .doOnChannelInit((observer, channel, address) -> {
                    var pipeline = channel.pipeline();
                    if (pipeline.get(NettyPipeline.HttpCodec) != null && pipeline.get(RequestHeadDeadline.NAME) == null) {
                        pipeline.addAfter(NettyPipeline.HttpCodec, RequestHeadDeadline.NAME,
                                new RequestHeadDeadline(api.requestReadTimeout(), api.keepAliveTimeout()));
                    }
                });
    }

    @Bean
    SchedulerClient schedulerClient(WebClient upstreamWebClient, RoutingProperties routing) {
        return new SchedulerClient(upstreamWebClient, routing);
    }

    /** Delivered-hit reports to the scheduler, one batch a second. */
    @Bean(destroyMethod = "dispose")
    reactor.core.Disposable outcomeReporter(SchedulerClient scheduler) {
        return scheduler.startReportingOutcomes(Duration.ofSeconds(1));
    }

    @Bean(destroyMethod = "close")
    ModelDirectory modelDirectory(SchedulerClient scheduler, RoutingProperties routing) {
        return new ModelDirectory(scheduler, routing.modelsRefresh());
    }

    @Bean
    InstanceClient instanceClient(WebClient upstreamWebClient, RoutingProperties routing,
                                  CircuitBreakerRegistry breakers, BulkheadRegistry bulkheads) {
        return new InstanceClient(upstreamWebClient, routing, breakers, bulkheads);
    }

    @Bean
    GatewayMetrics gatewayMetrics(MeterRegistry registry) {
        return new GatewayMetrics(registry);
    }

    /** The status page's memory of the last 50 requests and of each instance's prefix-cache hits. */
    @Bean
    RecentRequests recentRequests() {
        return new RecentRequests(50);
    }

    @Bean
    RouterFunction<ServerResponse> gatewayRoutes(KeyAuthenticator authenticator, QuotaService quotas,
                                                 ModelDirectory models, SchedulerClient scheduler,
                                                 InstanceClient instances, GatewayMetrics metrics, ApiProperties api,
                                                 RecentRequests recent) {
        return new GatewayHandler(authenticator, quotas, models, scheduler, new Relay(instances, metrics),
                new CallAccounting(metrics, scheduler, recent), api).routes();
    }

    /** {@code GET /status} (the page) and {@code GET /status/api} (its data, operator token). */
    @Bean
    RouterFunction<ServerResponse> statusRoutes(TenancyProperties tenancy, TenancyRedis redis, TenantStore tenants,
                                                QuotaService quotas, CircuitBreakerRegistry breakers,
                                                RecentRequests recent, GatewayMetrics metrics) {
        return StatusHandler.create(tenancy.admin().operatorToken(), redis::connection, redis.status(), tenants,
                quotas, breakers, recent, metrics).routes();
    }

    /** {@code routing} in /actuator/health: UP with the models known and each instance's circuit breaker. */
    @Bean("routing")
    HealthIndicator routingHealth(ModelDirectory models, CircuitBreakerRegistry breakers, GatewayMetrics metrics) {
        return () -> {
            Map<String, String> circuits = new TreeMap<>();
            for (CircuitBreaker breaker : breakers.getAllCircuitBreakers()) {
                circuits.put(breaker.getName(), breaker.getState().name());
            }
            var list = models.list().onErrorComplete().blockOptional(Duration.ofMillis(200));
            return Health.up()
                    .withDetail("models", list.map(l -> (Object) l.data().stream().map(m -> m.id()).toList())
                            .orElse("unknown: the scheduler has not answered yet"))
                    .withDetail("circuits", circuits)
                    .withDetail("openStreams", metrics.numOpenStreams())
                    .build();
        };
    }
}
