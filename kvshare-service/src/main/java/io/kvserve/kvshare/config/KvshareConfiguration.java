package io.kvserve.kvshare.config;

import io.kvserve.kvshare.api.HitService;
import io.kvserve.kvshare.api.KvshareHandler;
import io.kvserve.kvshare.index.KvIndex;
import io.kvserve.kvshare.ingest.EventConsumer;
import io.kvserve.kvshare.ingest.FailFastRedis;
import io.kvserve.kvshare.ingest.InstanceRegistry;
import io.kvserve.kvshare.ingest.RedisHealthIndicator;
import io.kvserve.kvshare.tenant.ChainHasher;
import io.kvserve.kvshare.tenant.PublishedPrefixes;
import io.kvserve.kvshare.tenant.TenantSalts;
import io.kvserve.kvshare.tenant.TenantStats;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The Redis client and kvshare's parts, wired. */
@Configuration(proxyBeanMethods = false)
class KvshareConfiguration {

    @Bean(destroyMethod = "shutdown")
    RedisClient redisClient(KvshareProperties properties) {
        return FailFastRedis.client(properties.redisUrl(), Duration.ofSeconds(2));
    }

    @Bean(destroyMethod = "close")
    StatefulRedisConnection<String, String> redisConnection(RedisClient client) {
        return client.connect();
    }

    @Bean(destroyMethod = "close")
    KvIndex kvIndex(RedisClient client, KvshareProperties properties) {
        return new KvIndex(client, properties.keyPrefix());
    }

    @Bean
    TenantSalts tenantSalts(StatefulRedisConnection<String, String> connection, KvshareProperties properties) {
        return new TenantSalts(connection, properties.keyPrefix());
    }

    @Bean
    PublishedPrefixes publishedPrefixes(StatefulRedisConnection<String, String> connection,
                                        KvshareProperties properties) {
        return new PublishedPrefixes(connection, properties.keyPrefix(), properties.blockSize(),
                PublishedPrefixes.DEFAULT_REFRESH_INTERVAL);
    }

    @Bean
    ChainHasher chainHasher(TenantSalts salts, PublishedPrefixes published, KvshareProperties properties) {
        return new ChainHasher(salts, published);
    }

    @Bean
    TenantStats tenantStats(StatefulRedisConnection<String, String> connection, KvshareProperties properties) {
        return new TenantStats(connection, properties.keyPrefix());
    }

    @Bean
    InstanceRegistry instanceRegistry(StatefulRedisConnection<String, String> connection) {
        return new InstanceRegistry(connection::sync);
    }

    @Bean
    EventConsumer eventConsumer(RedisClient client, KvIndex index, InstanceRegistry registry,
                                KvshareProperties properties, MeterRegistry meters) {
        return new EventConsumer(client, index, registry, properties, meters);
    }

    @Bean
    HitService hitService(KvIndex index, InstanceRegistry registry, EventConsumer consumer, TenantSalts salts,
                          ChainHasher hasher, TenantStats stats, KvshareProperties properties, MeterRegistry meters) {
        MeterRegistry m = meters;
        m.gauge("kvshare_index_blocks", index, i -> {
            try {
                return i.numBlocks();
            } catch (RuntimeException e) {
                return Double.NaN;
            }
        });
        return new HitService(index, registry, consumer, salts, hasher, stats, properties, meters);
    }

    @Bean
    KvshareHandler kvshareHandler(HitService hits, KvIndex index, InstanceRegistry registry, EventConsumer consumer,
                                  TenantSalts salts, PublishedPrefixes published, TenantStats stats,
                                  KvshareProperties properties) {
        return new KvshareHandler(hits, index, registry, consumer, salts, published, stats, properties);
    }

    @Bean("redis")
    RedisHealthIndicator redisHealthIndicator(StatefulRedisConnection<String, String> connection,
                                              EventConsumer consumer) {
        return new RedisHealthIndicator(connection, consumer);
    }
}
