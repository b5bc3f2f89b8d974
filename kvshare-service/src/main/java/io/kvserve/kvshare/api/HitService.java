package io.kvserve.kvshare.api;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.kvshare.config.KvshareProperties;
import io.kvserve.kvshare.index.KvIndex;
import io.kvserve.kvshare.ingest.EventConsumer;
import io.kvserve.kvshare.ingest.InstanceRegistry;
import io.kvserve.kvshare.tenant.ChainHasher;
import io.kvserve.kvshare.tenant.HashedPrompt;
import io.kvserve.kvshare.tenant.TenantSalts;
import io.kvserve.kvshare.tenant.TenantStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Answers hit queries: for each chain, how many leading blocks every live instance of the model
 * holds. Tenant chains are hashed here from token ids (with the tenant's salt and any published
 * prefix the prompt starts with) or given as hashes. One Redis round trip per batch; a query that
 * Redis does not answer within {@code query-timeout} is "unknown", so the scheduler places by load.
 */
public final class HitService {

    private static final Logger LOG = LoggerFactory.getLogger(HitService.class);

    private final KvIndex index;
    private final InstanceRegistry registry;
    private final EventConsumer consumer;
    private final TenantSalts salts;
    private final ChainHasher hasher;
    private final TenantStats stats;
    private final KvshareProperties properties;
    private final Timer latency;
    private final Counter answered;
    private final Counter unknown;
    private final ExecutorService queryThreads = Executors.newVirtualThreadPerTaskExecutor();

    public HitService(KvIndex index, InstanceRegistry registry, EventConsumer consumer, TenantSalts salts,
                      ChainHasher hasher, TenantStats stats, KvshareProperties properties, MeterRegistry meters) {
        this.index = index;
        this.registry = registry;
        this.consumer = consumer;
        this.salts = salts;
        this.hasher = hasher;
        this.stats = stats;
        this.properties = properties;
        this.latency = Timer.builder("kvshare_query_latency").description("Hit query latency, Redis included")
                .publishPercentileHistogram().register(meters);
        this.answered = Counter.builder("kvshare_queries_total").tag("status", "ok").register(meters);
        this.unknown = Counter.builder("kvshare_queries_total").tag("status", "unknown").register(meters);
    }

    /** One query of a batch: token ids to hash here, or a chain the caller hashed. */
    sealed interface ChainSpec {
        record TokenIds(int[] ids) implements ChainSpec {
        }

        record Hashes(List<BlockHash> chain) implements ChainSpec {
        }
    }

    /** One chain's answer. */
    record Result(int numBlocks, int numPublishedBlocks, List<InstanceHit> instances) {
    }

    record InstanceHit(String instanceId, String url, int numCachedBlocks, long numCachedTokens) {
    }

    /** The batch's answer; {@code status} is {@code ok} or {@code unknown} (with why). */
    record Answer(String model, String tenant, String status, String reason, int blockSize, List<Result> results) {
    }

    Mono<Answer> query(String model, String tenant, List<ChainSpec> specs) {
        if (!registry.loaded() || !consumer.redisUp()) {
            unknown.increment();
            return Mono.just(unknownAnswer(model, tenant, "the index's Redis is unreachable"));
        }
        List<InstanceRegistration> instances = registry.serving(model);
        if (instances.isEmpty()) {
            return Mono.error(ApiError.notFound("model", "no live instance serves the model '" + model + "'; live models: "
                    + registry.models(), "model_not_found"));
        }
        long start = System.nanoTime();
        // on a virtual thread, and never interrupted: a timeout leaves the Redis calls to finish on
        // their own (interrupting a Lettuce call on the shared connection is not worth the risk)
        return Mono.fromFuture(() -> CompletableFuture.supplyAsync(() -> answer(model, tenant, specs, instances),
                        queryThreads), true)
                .timeout(properties.queryTimeout())
                .doOnNext(a -> {
                    latency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                    answered.increment();
                })
                .onErrorMap(CompletionException.class, e -> e.getCause() != null ? e.getCause() : e)
                .onErrorResume(e -> !(e instanceof ApiError) && !(e instanceof IllegalArgumentException), e -> {
                    unknown.increment();
                    LOG.debug("hit query answered unknown: {}", e.toString());
                    return Mono.just(unknownAnswer(model, tenant, e instanceof java.util.concurrent.TimeoutException
                            ? "Redis did not answer within " + properties.queryTimeout() : "Redis failed: " + e));
                })
                .onErrorMap(IllegalArgumentException.class, e -> ApiError.badRequest("queries", e.getMessage()));
    }

    private Answer answer(String model, String tenant, List<ChainSpec> specs, List<InstanceRegistration> instances) {
        List<List<BlockHash>> chains = new ArrayList<>(specs.size());
        List<Integer> published = new ArrayList<>(specs.size());
        for (ChainSpec spec : specs) {
            switch (spec) {
                case ChainSpec.TokenIds ids -> {
                    HashedPrompt hashed = hasher.hash(model, tenant, ids.ids());
                    chains.add(hashed.chain());
                    published.add(hashed.numPublishedBlocks());
                }
                case ChainSpec.Hashes hashes -> {
                    if (!salts.exists(tenant)) {
                        throw ApiError.notFound("tenant", "unknown tenant '" + tenant
                                + "': a chain of hashes can only come from an existing tenant's salt", "tenant_not_found");
                    }
                    chains.add(hashes.chain());
                    published.add(0);
                }
            }
        }
        List<String> ids = instances.stream().map(InstanceRegistration::id).toList();
        List<Map<String, Integer>> hits = index.longestPrefixesBatch(chains, ids);
        List<Result> results = new ArrayList<>(chains.size());
        for (int q = 0; q < chains.size(); q++) {
            Map<String, Integer> byInstance = hits.get(q);
            List<InstanceHit> list = new ArrayList<>(instances.size());
            Map<String, Integer> forStats = new LinkedHashMap<>();
            for (InstanceRegistration instance : instances) {
                int numCached = byInstance.getOrDefault(instance.id(), 0);
                list.add(new InstanceHit(instance.id(), instance.url(), numCached,
                        (long) numCached * properties.blockSize()));
                forStats.put(instance.id(), numCached);
            }
            stats.record(tenant, chains.get(q).size(), forStats);
            results.add(new Result(chains.get(q).size(), published.get(q), list));
        }
        return new Answer(model, tenant, "ok", null, properties.blockSize(), results);
    }

    private Answer unknownAnswer(String model, String tenant, String reason) {
        return new Answer(model, tenant, "unknown", reason, properties.blockSize(), List.of());
    }
}
