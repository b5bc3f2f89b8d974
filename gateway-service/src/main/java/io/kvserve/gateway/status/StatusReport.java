package io.kvserve.gateway.status;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.gateway.quota.DayUsage;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.gateway.route.GatewayMetrics;
import io.kvserve.gateway.tenant.RedisStatus;
import io.kvserve.gateway.tenant.Tenant;
import io.kvserve.gateway.tenant.TenantStore;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * What {@code GET /status/api} answers: this gateway (open streams, Redis), the live instances (the
 * registry in Redis, with this gateway's circuit breaker and prefix-cache hit rate for each), the
 * tenants (limits, today's usage, the rate limits' current state) and the last requests routed. Each
 * section read from Redis that fails says why in its {@code error} field; the others are still there,
 * so the page stays useful during an outage. Snake_case JSON, built as maps as the admin API's are.
 *
 * <pre>
 * {"object":"gateway.status","generated_at_ms":..,
 *  "gateway":{"open_streams":3,"redis":"up"},
 *  "instances":{"data":[{"id","model","status","num_running",..,"circuit_breaker":"CLOSED",
 *                        "gateway":{"num_requests","num_prompt_tokens","num_cached_tokens","prefix_hit_rate"}}],
 *               "num_not_live":0,"truncated":false},
 *  "tenants":{"data":[{"id","name","weight","disabled","limits":{..},"today":{..},"rate_limits":{..}}]},
 *  "recent_requests":[{"ended_at_ms","request_id","tenant_id",..}]}
 * </pre>
 */
final class StatusReport {

    /** Most tenants listed (each costs two Redis round trips per refresh). */
    static final int MAX_TENANTS = 500;

    private final LiveInstances instances;
    private final TenantStore tenants;
    private final QuotaService quotas;
    private final CircuitBreakerRegistry breakers;
    private final RecentRequests recent;
    private final IntSupplier numOpenStreams;
    private final RedisStatus redis;
    private final InstantSource clock;

    StatusReport(LiveInstances instances, TenantStore tenants, QuotaService quotas, CircuitBreakerRegistry breakers,
                 RecentRequests recent, IntSupplier numOpenStreams, RedisStatus redis, InstantSource clock) {
        this.instances = instances;
        this.tenants = tenants;
        this.quotas = quotas;
        this.breakers = breakers;
        this.recent = recent;
        this.numOpenStreams = numOpenStreams;
        this.redis = redis;
        this.clock = clock;
    }

    static StatusReport of(LiveInstances instances, TenantStore tenants, QuotaService quotas,
                           CircuitBreakerRegistry breakers, RecentRequests recent, GatewayMetrics metrics,
                           RedisStatus redis) {
        return new StatusReport(instances, tenants, quotas, breakers, recent, metrics::numOpenStreams, redis,
                InstantSource.system());
    }

    Mono<Map<String, Object>> snapshot() {
        return Mono.zip(instancesSection(), tenantsSection())
                // off Lettuce's I/O thread: building the answer must not hold up Redis replies
                .publishOn(Schedulers.parallel())
                .map(sections -> {
                    long nowMs = clock.millis();
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("object", "gateway.status");
                    body.put("generated_at_ms", nowMs);
                    Map<String, Object> gateway = new LinkedHashMap<>();
                    gateway.put("open_streams", numOpenStreams.getAsInt());
                    gateway.put("redis", redis.up() ? "up" : "unreachable");
                    body.put("gateway", gateway);
                    body.put("instances", sections.getT1());
                    body.put("tenants", sections.getT2());
                    body.put("recent_requests", recent.recent().stream().map(StatusReport::view).toList());
                    return body;
                });
    }

    private Mono<Map<String, Object>> instancesSection() {
        return instances.read().map(read -> {
            long nowMs = clock.millis();
            Map<String, Object> section = new LinkedHashMap<>();
            section.put("data", read.live().stream().map(r -> view(r, nowMs)).toList());
            section.put("num_not_live", read.numDead());
            section.put("truncated", read.truncated());
            return section;
        }).onErrorResume(e -> Mono.just(failed("the instance registry", e)));
    }

    private Mono<Map<String, Object>> tenantsSection() {
        return tenants.tenants().flatMap(all -> {
            List<Tenant> shown = all.size() > MAX_TENANTS ? all.subList(0, MAX_TENANTS) : all;
            return Flux.fromIterable(shown)
                    .flatMapSequential(t -> quotas.usage(t.id(), 1)
                            .zipWith(quotas.currentState(t.id(), t.limits()))
                            .map(u -> view(t, u.getT1().getLast(), u.getT2())), 16)
                    .collectList()
                    .map(data -> {
                        Map<String, Object> section = new LinkedHashMap<>();
                        section.put("data", data);
                        section.put("truncated", shown.size() < all.size());
                        return section;
                    });
        }).onErrorResume(e -> Mono.just(failed("the tenants", e)));
    }

    private Map<String, Object> failed(String what, Throwable e) {
        Map<String, Object> section = new LinkedHashMap<>();
        section.put("data", List.of());
        section.put("error", RedisStatus.isOutage(e) ? what + " could not be read: Redis is unreachable ("
                + e.getClass().getSimpleName() + ")" : what + " could not be read: " + e);
        redis.noteFailure(e);
        return section;
    }

    private Map<String, Object> view(InstanceRegistration r, long nowMs) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", r.id());
        v.put("url", r.url());
        v.put("model", r.model());
        v.put("status", r.status().wireName());
        v.put("num_running", r.numRunning());
        v.put("num_waiting", r.numWaiting());
        v.put("kv_cache_usage", r.kvCacheUsage());
        v.put("kv_capacity_tokens", r.kvCapacityTokens());
        v.put("tokens_per_second", r.tokensPerSecond());
        v.put("heartbeat_at_ms", r.heartbeatAtMs());
        v.put("heartbeat_age_ms", Math.max(0, nowMs - r.heartbeatAtMs()));
        // find, not circuitBreaker(id): looking must not create a breaker for an instance never called
        v.put("circuit_breaker", breakers.find(r.id()).map(CircuitBreaker::getState).map(Enum::name).orElse(null));
        RecentRequests.InstanceTotals totals = recent.totals(r.id());
        Map<String, Object> gateway = new LinkedHashMap<>();
        gateway.put("num_requests", totals.numRequests());
        gateway.put("num_prompt_tokens", totals.numPromptTokens());
        gateway.put("num_cached_tokens", totals.numCachedTokens());
        gateway.put("prefix_hit_rate", totals.hitRate());
        v.put("gateway", gateway);
        return v;
    }

    private static Map<String, Object> view(Tenant t, DayUsage today, Map<String, Object> rateLimits) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", t.id());
        v.put("name", t.name());
        v.put("weight", t.weight());
        v.put("disabled", t.disabled());
        v.put("limits", t.limits().toMap());
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("date", today.date().toString());
        usage.put("requests", today.requests());
        usage.put("prompt_tokens", today.promptTokens());
        usage.put("completion_tokens", today.completionTokens());
        usage.put("cached_tokens", today.cachedTokens());
        usage.put("total_tokens", today.totalTokens());
        v.put("today", usage);
        v.put("rate_limits", rateLimits);
        return v;
    }

    private static Map<String, Object> view(RecentRequest r) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("ended_at_ms", r.endedAtMs());
        v.put("request_id", r.requestId());
        v.put("tenant_id", r.tenantId());
        v.put("api", r.api());
        v.put("model", r.model());
        v.put("instance_id", r.instanceId());
        v.put("num_attempts", r.numAttempts());
        v.put("outcome", r.outcome());
        v.put("predicted_hit_tokens", r.predictedHitTokens());
        v.put("prompt_tokens", r.promptTokens());
        v.put("cached_tokens", r.cachedTokens());
        v.put("completion_tokens", r.completionTokens());
        v.put("time_to_first_token_ms", r.timeToFirstTokenMs());
        v.put("duration_ms", r.durationMs());
        return v;
    }
}
