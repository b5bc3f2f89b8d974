package io.kvserve.cli.benchserving;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the run's measured requests mean against latency targets, and per tenant.
 *
 * <p><b>Goodput</b> (DistServe [1], vLLM's {@code benchmark_serving --goodput}): the completed requests
 * that met every given SLO (TTFT <= {@code sloTtftMs}, TPOT <= {@code sloTpotMs}; a request of one
 * output token has no TPOT and meets that one), per second of the measured phase; {@code fraction} is
 * their share of all measured requests, failed ones included. With no SLO every completed request is good.
 *
 * <p><b>Fluidity-index</b> (Metron [2], algorithm 1): every text chunk of a request has a deadline;
 * the first chunk's is {@code sloTtftMs} after sending, each next one's {@code sloTpotMs} after the
 * previous deadline. A chunk earlier than its deadline banks the difference as slack for the later
 * ones. A chunk later than its deadline (slack included) misses every deadline that passed before it
 * came, {@code floor((gap - slack) / tpot)} of them (for the first chunk
 * {@code 1 + floor((ttft - slack - ttftSlo) / tpot)}), and the deadlines after it are reset relative
 * to its arrival (slack back to 0), because decoding is autoregressive: a late token delays all the
 * next ones. A request's fluidity-index is {@code 1 - missed / deadlines}; it needs both SLOs and is
 * computed for completed requests only. The per-run figures are the mean and two percentiles:
 * {@code p50} the median and {@code p99} the value that 99% of requests reach or exceed (the 1st
 * percentile; higher is better, so the tail is at the bottom).
 *
 * <p>[1] Zhong et al., DistServe, OSDI 2024. [2] Agrawal et al., Metron: Holistic Performance Evaluation
 * Framework for LLM Inference Systems, arXiv 2407.07000.
 */
final class ServiceLevels {

    private ServiceLevels() {
    }

    /**
     * @param sloTtftMs     the TTFT target; NaN when none was given
     * @param sloTpotMs     the TPOT target; NaN when none was given
     * @param requestsPerSecond completed requests meeting every target, per second
     * @param fraction      their share of the measured requests
     */
    record Goodput(double sloTtftMs, double sloTpotMs, double requestsPerSecond, double fraction) {
    }

    /** Fluidity-index over the completed requests; NaN fields when there are no SLOs or no completed request. */
    record Fluidity(double mean, double p50, double p99) {
    }

    /**
     * One tenant's requests.
     *
     * @param prefixCacheHitRate cached / prompt tokens over its completed requests whose usage said; NaN when none did
     */
    record TenantFigures(int numCompleted, int numFailed, double medianTtftMs, double p99TtftMs, double medianTpotMs,
                         double prefixCacheHitRate) {
    }

    static boolean meets(RequestRecord r, double sloTtftMs, double sloTpotMs) {
        if (!r.succeeded()) {
            return false;
        }
        boolean ttftOk = Double.isNaN(sloTtftMs) || r.ttftMs() <= sloTtftMs;
        double tpot = r.tpotMs();
        boolean tpotOk = Double.isNaN(sloTpotMs) || Double.isNaN(tpot) || tpot <= sloTpotMs;
        return ttftOk && tpotOk;
    }

    static Goodput goodput(List<RequestRecord> records, double durationSeconds, double sloTtftMs, double sloTpotMs) {
        int good = 0;
        for (RequestRecord r : records) {
            if (meets(r, sloTtftMs, sloTpotMs)) {
                good++;
            }
        }
        return new Goodput(sloTtftMs, sloTpotMs, good / Math.max(durationSeconds, 1e-9),
                records.isEmpty() ? 0 : (double) good / records.size());
    }

    /** One request's fluidity-index from its TTFT and the gaps between its text chunks (all in ms). */
    static double fluidityIndex(double ttftMs, double[] itlMs, double sloTtftMs, double sloTpotMs) {
        if (!(sloTtftMs > 0) || !(sloTpotMs > 0)) {
            throw new IllegalArgumentException("the fluidity-index needs TTFT and TPOT targets > 0, got " + sloTtftMs + " and " + sloTpotMs);
        }
        long numDeadlines = 0;
        long numMissed = 0;
        double slackMs = 0;
        for (int i = 0; i <= itlMs.length; i++) {
            double gapMs = i == 0 ? ttftMs : itlMs[i - 1];
            double dueMs = i == 0 ? sloTtftMs : sloTpotMs;
            if (gapMs <= dueMs + slackMs) {
                slackMs += dueMs - gapMs;
                numDeadlines++;
                continue;
            }
            long missed = i == 0
                    ? 1 + (long) Math.floor((gapMs - slackMs - sloTtftMs) / sloTpotMs)
                    : (long) Math.floor((gapMs - slackMs) / sloTpotMs);
            numMissed += missed;
            numDeadlines += missed;
            slackMs = 0;
        }
        return numDeadlines == 0 ? 1 : 1 - (double) numMissed / numDeadlines;
    }

    static Fluidity fluidity(List<RequestRecord> records, double sloTtftMs, double sloTpotMs) {
        if (Double.isNaN(sloTtftMs) || Double.isNaN(sloTpotMs)) {
            return new Fluidity(Double.NaN, Double.NaN, Double.NaN);
        }
        List<Double> values = new ArrayList<>();
        for (RequestRecord r : records) {
            if (r.succeeded()) {
                values.add(fluidityIndex(r.ttftMs(), r.itlMs(), sloTtftMs, sloTpotMs));
            }
        }
        if (values.isEmpty()) {
            return new Fluidity(Double.NaN, Double.NaN, Double.NaN);
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double sum = 0;
        for (double v : sorted) {
            sum += v;
        }
        return new Fluidity(sum / sorted.length, Percentiles.percentile(sorted, 50), Percentiles.percentile(sorted, 1));
    }

    /** cached / prompt tokens over the completed requests whose usage gave cached tokens; NaN when none did. */
    static double usageHitRate(List<RequestRecord> records) {
        long cached = 0;
        long prompt = 0;
        for (RequestRecord r : records) {
            if (r.succeeded() && r.numCachedTokens() >= 0) {
                cached += r.numCachedTokens();
                prompt += r.numPromptTokens();
            }
        }
        return prompt == 0 ? Double.NaN : (double) cached / prompt;
    }

    /** Per tenant (requests of no tenant are left out), by name. */
    static Map<String, TenantFigures> byTenant(List<RequestRecord> records) {
        Map<String, List<RequestRecord>> groups = new TreeMap<>();
        for (RequestRecord r : records) {
            if (r.tenant() != null) {
                groups.computeIfAbsent(r.tenant(), t -> new ArrayList<>()).add(r);
            }
        }
        Map<String, TenantFigures> figures = new TreeMap<>();
        groups.forEach((tenant, rs) -> {
            List<Double> ttft = new ArrayList<>();
            List<Double> tpot = new ArrayList<>();
            int failed = 0;
            for (RequestRecord r : rs) {
                if (!r.succeeded()) {
                    failed++;
                    continue;
                }
                ttft.add(r.ttftMs());
                if (!Double.isNaN(r.tpotMs())) {
                    tpot.add(r.tpotMs());
                }
            }
            double[] ttftSorted = ttft.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double[] tpotSorted = tpot.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            figures.put(tenant, new TenantFigures(rs.size() - failed, failed,
                    ttftSorted.length == 0 ? Double.NaN : Percentiles.percentile(ttftSorted, 50),
                    ttftSorted.length == 0 ? Double.NaN : Percentiles.percentile(ttftSorted, 99),
                    tpotSorted.length == 0 ? Double.NaN : Percentiles.percentile(tpotSorted, 50),
                    usageHitRate(rs)));
        });
        return figures;
    }
}
