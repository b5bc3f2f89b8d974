package io.kvserve.cli.benchserving.report;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One {@code bench-serving --json} result file as the report reads it. Numbers the file does not
 * have (an older generator, a failed request, a closed loop's request rate) are {@code NaN}; objects
 * it does not have are empty {@link Optional}s; maps and lists it does not have are empty.
 *
 * @param label    what the report calls the run: the file name without {@code .json}
 * @param file     where it was read from
 * @param requests every request of the file, warm-up included (see {@link #measured()})
 */
public record ServingRun(String label, Path file, Config config, Summary summary, List<Request> requests) {

    public ServingRun {
        requests = List.copyOf(requests);
    }

    /** The requests the figures are about: not warm-up. */
    public List<Request> measured() {
        return requests.stream().filter(r -> !r.warmup()).toList();
    }

    /** The same run under another label (two files named alike in one report). */
    ServingRun withLabel(String newLabel) {
        return new ServingRun(newLabel, file, config, summary, requests);
    }

    /** Closed loop: N users each with one request in flight. Open loop: requests arrive at a rate. */
    public enum Mode { CLOSED_LOOP, OPEN_LOOP }

    /**
     * @param requestRate      open loop: requests per second, {@code +Infinity} for all at once; NaN in a closed loop
     * @param concurrency      closed loop: the number of users; 0 in an open loop
     * @param maxConcurrency   open loop: the most requests in flight, 0 for no limit
     * @param arrival          {@code poisson}, {@code burst}, {@code closed}, {@code trace}; empty in older files
     * @param numBurstRequests with {@code burst} arrivals, the requests per burst; 0 otherwise
     * @param workloadParams   the workload's parameters as {@code key -> value text}, in the file's order
     */
    public record Config(String model, Mode mode, int concurrency, double requestRate, int maxConcurrency,
                         String workload, Map<String, String> workloadParams, Optional<String> arrival,
                         int numBurstRequests, int inputLen, int outputLen, int numRequests) {

        public Config {
            workloadParams = Collections.unmodifiableMap(new LinkedHashMap<>(workloadParams));
        }
    }

    /**
     * The figures the generator computed over the measured requests (times in ms).
     *
     * @param prefixCacheHitRate cached prompt tokens / prompt tokens, 0..1; NaN when the server reported none
     * @param prefixCacheHitRateSource where the hit rate came from: {@code prometheus} (the instances'
     *                           counters) or {@code usage} (the responses' {@code cached_tokens})
     * @param tenants            per-tenant figures by tenant name, sorted; empty without tenants
     * @param errors             failed requests by error key, sorted ({@code timeout}, {@code http_429:rate_limit_exceeded})
     */
    public record Summary(int numCompleted, int numFailed, double durationSeconds, long numInputTokens,
                          long numOutputTokens, double requestThroughput, double outputThroughput,
                          double totalTokenThroughput, Latency ttftMs, Latency tpotMs, Latency itlMs, Latency e2eMs,
                          Map<String, Integer> errors, Optional<Goodput> goodput, Optional<Fluidity> fluidityIndex,
                          double prefixCacheHitRate, Optional<String> prefixCacheHitRateSource,
                          Map<String, Tenant> tenants, Optional<SenderLag> senderLag) {

        public Summary {
            errors = Collections.unmodifiableSortedMap(new TreeMap<>(errors));
            tenants = Collections.unmodifiableSortedMap(new TreeMap<>(tenants));
        }
    }

    /** One latency's statistics in ms (NaN where the file has none). */
    public record Latency(double mean, double median, double std, double p90, double p99, double min, double max) {
    }

    /**
     * Requests that met the SLOs, per second and as a share of the measured requests.
     *
     * @param sloTtftMs NaN when the run set no TTFT SLO
     * @param sloTpotMs NaN when the run set no TPOT SLO
     * @param fraction  0..1
     */
    public record Goodput(double sloTtftMs, double sloTpotMs, double requestsPerSecond, double fraction) {
    }

    /** The fluidity index (share of token deadlines met per request, 0..1) over the requests. */
    public record Fluidity(double mean, double p50, double p99) {
    }

    /** @param prefixCacheHitRate 0..1; NaN when the server reported none */
    public record Tenant(int numCompleted, int numFailed, double medianTtftMs, double p99TtftMs, double medianTpotMs,
                         double prefixCacheHitRate) {
    }

    /**
     * How late the open loop's sender got behind its schedule; {@code fellBehind} makes the offered rate untrue.
     *
     * @param plannedSpanMs the schedule's length; NaN in files without it
     */
    public record SenderLag(double maxMs, double plannedSpanMs, boolean fellBehind) {
    }

    /**
     * One request's record.
     *
     * @param ttftMs          NaN when no token came
     * @param tpotMs          NaN with fewer than two output tokens
     * @param errorKey        empty when it succeeded
     * @param tenant          empty without tenants
     * @param numCachedTokens the server's {@code cached_tokens}; -1 when it reported none
     */
    public record Request(int index, boolean warmup, double sendMs, double ttftMs, double tpotMs, double e2eMs,
                          int numPromptTokens, int numOutputTokens, Optional<String> errorKey, Optional<String> tenant,
                          int numCachedTokens) {

        public boolean succeeded() {
            return errorKey.isEmpty();
        }
    }
}
