package io.kvserve.scheduler.service;

import io.kvserve.kvshare.ingest.InstanceRegistry;
import io.kvserve.kvshare.tenant.ChainHasher;
import io.kvserve.kvshare.tenant.PublishedPrefixes;
import io.kvserve.kvshare.tenant.TenantSalts;
import io.kvserve.kvshare.ingest.FailFastRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/** The scheduler's parts, wired. */
@Configuration(proxyBeanMethods = false)
class SchedulerConfiguration {

    @Bean(destroyMethod = "shutdown")
    RedisClient redisClient(SchedulerProperties properties) {
        return FailFastRedis.client(properties.redisUrl(), Duration.ofSeconds(1));
    }

    @Bean(destroyMethod = "close")
    StatefulRedisConnection<String, String> redisConnection(RedisClient client) {
        return client.connect();
    }

    @Bean(destroyMethod = "close")
    ModelCatalog modelCatalog(SchedulerProperties properties) {
        return new ModelCatalog(properties.models());
    }

    @Bean
    RegistryWatcher registryWatcher(StatefulRedisConnection<String, String> connection, SchedulerProperties properties) {
        return new RegistryWatcher(new InstanceRegistry(connection::sync), properties.registryRefresh());
    }

    @Bean
    KvshareClient kvshareClient(SchedulerProperties properties) {
        return new KvshareClient(WebClient.builder(), properties.kvshareUrl(), properties.kvshareTimeout());
    }

    @Bean
    Placer placer(ModelCatalog catalog, RegistryWatcher registry, KvshareClient kvshare,
                  StatefulRedisConnection<String, String> connection, SchedulerProperties properties,
                  MeterRegistry meters) {
        io.micrometer.core.instrument.Gauge.builder("kvserve_scheduler_redis_up", registry, r -> r.redisUp() ? 1 : 0)
                .description("1 when the instance registry in Redis is readable").register(meters);
        TenantSalts salts = new TenantSalts(connection, properties.kvshareKeyPrefix());
        ChainHasher hasher = new ChainHasher(salts, new PublishedPrefixes(connection, properties.kvshareKeyPrefix(),
                properties.blockSize(), PublishedPrefixes.DEFAULT_REFRESH_INTERVAL));
        Placer placer = new Placer(catalog, registry, kvshare, salts, hasher, Policies.byName(properties.policy()),
                properties, meters);
        io.micrometer.core.instrument.Gauge.builder("kvserve_scheduler_queued_requests", placer, Placer::numQueued)
                .description("Requests waiting for a placement").register(meters);
        return placer;
    }

    @Bean
    RouterFunction<ServerResponse> schedulerRoutes(Placer placer, ModelCatalog catalog) {
        return new SchedulerHandler(placer, catalog).routes();
    }

    /** {@code placement} in /actuator/health: UP, with what the scheduler can use right now. */
    @Bean("placement")
    HealthIndicator placementHealth(RegistryWatcher registry, KvshareClient kvshare, Placer placer) {
        return () -> Health.up().withDetail("policy", placer.policyName())
                .withDetail("registry", registry.redisUp() ? "up" : "unreachable: placing on the last known instances")
                .withDetail("kvshare", kvshare.configured() ? "configured" : "not configured: placing by load alone")
                .withDetail("queued", placer.numQueued())
                .build();
    }
}
