package io.kvserve.inference.metrics;

import io.kvserve.engine.EngineRequest;
import io.kvserve.engine.EngineStats;
import io.kvserve.engine.RequestOutput;
import io.kvserve.inference.model.ModelHost;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prometheus metrics under vLLM's names where the concept is the same, so vLLM dashboards and
 * alerts work unchanged: latency histograms per request (TTFT, inter-token latency, end-to-end),
 * token-count histograms, and the engine's gauges and counters read from its {@link EngineStats}.
 * Labels: {@code model_name} as vLLM. Per tenant ({@code kvserve:tenant_*}, label {@code tenant},
 * {@code default} for requests without one): requests by finish reason, prompt / cached prompt /
 * generation tokens (so a tenant's prefix-cache hit rate is cached / prompt) and TTFT. Per-tenant
 * series are for operators: the metrics endpoint belongs on the private network, never on the
 * gateway's public side.
 *
 * <p>Seconds histograms are Micrometer timers (they end in {@code _seconds}); Micrometer's
 * distribution summaries mis-bucket values below 1, so they hold token counts only. Bucket bounds
 * are vLLM's.
 */
public final class InferenceMetrics implements RequestObserver {

    private static final Logger REQUEST_LOG = LoggerFactory.getLogger("io.kvserve.requests");

    static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
            5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
    static final double[] ITL_BUCKETS = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0,
            7.5, 10.0, 20.0, 40.0, 80.0};
    static final double[] E2E_BUCKETS = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
            60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
    static final String DEFAULT_TENANT = "default";

    private final MeterRegistry registry;
    private final Tags modelTags;
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final Timer e2eLatency;
    private final DistributionSummary promptTokens;
    private final DistributionSummary generationTokens;

    public InferenceMetrics(MeterRegistry registry, ModelHost host, String modelName, int maxModelLen) {
        this.registry = registry;
        this.modelTags = Tags.of("model_name", modelName);
        this.timeToFirstToken = latency("vllm:time_to_first_token", "Time to first token", TTFT_BUCKETS);
        this.interTokenLatency = latency("vllm:inter_token_latency", "Time between consecutive output tokens",
                ITL_BUCKETS);
        this.e2eLatency = latency("vllm:e2e_request_latency", "End-to-end request latency", E2E_BUCKETS);
        double[] tokenBuckets = oneTwoFiveBuckets(Math.max(maxModelLen, 1));
        this.promptTokens = DistributionSummary.builder("vllm:request_prompt_tokens")
                .description("Prompt tokens per finished request").tags(modelTags)
                .serviceLevelObjectives(tokenBuckets).register(registry);
        this.generationTokens = DistributionSummary.builder("vllm:request_generation_tokens")
                .description("Generated tokens per finished request").tags(modelTags)
                .serviceLevelObjectives(tokenBuckets).register(registry);

        gauge("vllm:num_requests_running", "Requests running in the engine", host, EngineStats::numRunning);
        gauge("vllm:num_requests_waiting", "Requests waiting to run", host, EngineStats::numWaiting);
        gauge("vllm:kv_cache_usage_perc", "KV cache usage, 1 = full", host, EngineStats::kvCacheUsage);
        counter("vllm:prefix_cache_queries", "Prompt tokens looked up in the prefix cache", host,
                EngineStats::prefixCacheQueries);
        counter("vllm:prefix_cache_hits", "Prompt tokens found in the prefix cache", host, EngineStats::prefixCacheHits);
        counter("vllm:num_preemptions", "Preemptions (requests recomputed after their KV was freed)", host,
                EngineStats::numPreemptions);
        counter("vllm:prompt_tokens", "Prompt tokens of requests admitted", host, EngineStats::promptTokens);
        counter("vllm:generation_tokens", "Tokens generated", host, EngineStats::generationTokens);
    }

    private Timer latency(String name, String description, double[] bucketsSeconds) {
        Duration[] slos = Arrays.stream(bucketsSeconds).mapToObj(s -> Duration.ofNanos((long) (s * 1e9)))
                .toArray(Duration[]::new);
        return Timer.builder(name).description(description).tags(modelTags).serviceLevelObjectives(slos)
                .minimumExpectedValue(slos[0]).maximumExpectedValue(slos[slos.length - 1]).register(registry);
    }

    private void gauge(String name, String description, ModelHost host, ToDoubleFunction<EngineStats> value) {
        Gauge.builder(name, host, h -> h.stats().map(value::applyAsDouble).orElse(0.0))
                .description(description).tags(modelTags).register(registry);
    }

    private void counter(String name, String description, ModelHost host, ToDoubleFunction<EngineStats> value) {
        FunctionCounter.builder(name, host, h -> h.stats().map(value::applyAsDouble).orElse(0.0))
                .description(description).tags(modelTags).register(registry);
    }

    /** 1, 2, 5, 10, 20, 50, ... up to {@code max} (vLLM's {@code build_1_2_5_buckets}). */
    static double[] oneTwoFiveBuckets(int max) {
        double[] buckets = new double[64];
        int n = 0;
        for (long exponent = 1; ; exponent *= 10) {
            for (int mantissa : new int[] {1, 2, 5}) {
                long value = mantissa * exponent;
                if (value > max) {
                    return Arrays.copyOf(buckets, n);
                }
                buckets[n++] = value;
            }
        }
    }

    @Override
    public Tracker track(EngineRequest request) {
        String tenant = request.tenantId() == null ? DEFAULT_TENANT : request.tenantId();
        return new RequestTracker(tenant);
    }

    /** One request's meters; its fields are touched by the engine thread only. */
    private final class RequestTracker implements Tracker {

        private final String tenant;
        private long lastTokenNanos = -1;

        RequestTracker(String tenant) {
            this.tenant = tenant;
        }

        @Override
        public void onOutput(RequestOutput output) {
            int numNewTokens = output.newTokenIds().length;
            if (numNewTokens > 0) {
                long now = System.nanoTime();
                if (lastTokenNanos >= 0) {
                    interTokenLatency.record(now - lastTokenNanos, TimeUnit.NANOSECONDS);
                }
                lastTokenNanos = now;
            }
            if (output.finished()) {
                finished(output);
            }
        }

        private void finished(RequestOutput output) {
            String reason = output.finishReason().name().toLowerCase(Locale.ROOT);
            Counter.builder("vllm:request_success").description("Finished requests by finish reason")
                    .tags(modelTags).tag("finished_reason", reason).register(registry).increment();
            Counter.builder("kvserve:tenant_requests").description("Finished requests per tenant and finish reason")
                    .tags(modelTags).tag("tenant", tenant).tag("finished_reason", reason).register(registry).increment();
            RequestOutput.Timings timings = output.timings();
            if (timings != null && timings.firstTokenNanos() >= 0) {
                long ttftNanos = timings.firstTokenNanos() - timings.arrivalNanos();
                timeToFirstToken.record(ttftNanos, TimeUnit.NANOSECONDS);
                Timer.builder("kvserve:tenant_time_to_first_token").description("Time to first token per tenant")
                        .tags(modelTags).tag("tenant", tenant).register(registry)
                        .record(ttftNanos, TimeUnit.NANOSECONDS);
            }
            if (timings != null && timings.finishedNanos() >= 0) {
                e2eLatency.record(timings.finishedNanos() - timings.arrivalNanos(), TimeUnit.NANOSECONDS);
            }
            RequestOutput.Usage usage = output.usage();
            if (usage != null) {
                promptTokens.record(usage.promptTokens());
                generationTokens.record(usage.completionTokens());
                tenantCounter("kvserve:tenant_prompt_tokens", "Prompt tokens per tenant").increment(usage.promptTokens());
                tenantCounter("kvserve:tenant_cached_prompt_tokens", "Prompt tokens served from the prefix cache per tenant")
                        .increment(usage.cachedPromptTokens());
                tenantCounter("kvserve:tenant_generation_tokens", "Generated tokens per tenant")
                        .increment(usage.completionTokens());
            }
            // one line per request, under the gateway's request id (the engine request id is
            // <cmpl-|chatcmpl-><x-request-id>-<choice>); logger io.kvserve.requests, off with its level
            if (REQUEST_LOG.isInfoEnabled()) {
                REQUEST_LOG.info("request {} tenant={} finish={} prompt_tokens={} cached_tokens={} completion_tokens={} "
                                + "ttft_ms={} e2e_ms={}", output.requestId(), tenant, reason,
                        usage == null ? -1 : usage.promptTokens(), usage == null ? -1 : usage.cachedPromptTokens(),
                        usage == null ? -1 : usage.completionTokens(),
                        timings == null || timings.firstTokenNanos() < 0 ? -1
                                : (timings.firstTokenNanos() - timings.arrivalNanos()) / 1_000_000,
                        timings == null || timings.finishedNanos() < 0 ? -1
                                : (timings.finishedNanos() - timings.arrivalNanos()) / 1_000_000);
            }
        }

        private Counter tenantCounter(String name, String description) {
            return Counter.builder(name).description(description).tags(modelTags).tag("tenant", tenant).register(registry);
        }
    }
}
