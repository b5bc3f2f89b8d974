package io.kvserve.scheduler.sim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One policy's run on one cluster: the metrics the report compares.
 *
 * @param policy               policy name ("oracle" for the bound)
 * @param numInstances         instances (the oracle: the instances it pools)
 * @param numRequests          requests finished
 * @param numRejected          requests the policy could not place (empty ranking)
 * @param hitRate              prompt tokens found in the chosen instance's cache at admission / prompt tokens
 * @param predictedHitRate     prompt tokens the policy predicted to hit / prompt tokens
 * @param ttftP50Seconds       time to first token (arrival to end of the prompt's last step), median
 * @param ttftP99Seconds       same, 99th percentile
 * @param throughputTokensPerSecond prompt and output tokens of finished requests / makespan
 * @param utilization          mean over instances of busy time / makespan (busy = running a step)
 * @param loadImbalance        max / mean of per-instance busy time (1 = even)
 * @param makespanSeconds      time of the last finish
 * @param tenants              per tenant, in tenant-id order
 */
public record RunResult(String policy, int numInstances, int numRequests, int numRejected, double hitRate,
                        double predictedHitRate, double ttftP50Seconds, double ttftP99Seconds,
                        double throughputTokensPerSecond, double utilization, double loadImbalance,
                        double makespanSeconds, List<TenantResult> tenants) {

    /**
     * @param tenantId       the tenant
     * @param numRequests    its finished requests
     * @param servedShare    its prompt and output tokens / everyone's
     * @param hitRate        its hit rate
     * @param ttftP99Seconds its TTFT p99
     */
    public record TenantResult(String tenantId, int numRequests, double servedShare, double hitRate,
                               double ttftP99Seconds) {
    }

    static RunResult of(String policy, int numInstances, List<RequestOutcome> outcomes, int numRejected,
                        double[] busySeconds) {
        long promptTokens = 0, hitTokens = 0, predictedTokens = 0, servedTokens = 0;
        double makespan = 0;
        double[] ttfts = new double[outcomes.size()];
        Map<String, List<RequestOutcome>> byTenant = new TreeMap<>();
        for (int i = 0; i < outcomes.size(); i++) {
            RequestOutcome o = outcomes.get(i);
            promptTokens += o.request().numPromptTokens();
            hitTokens += o.numHitTokens();
            predictedTokens += o.predictedHitTokens();
            servedTokens += o.request().numPromptTokens() + o.request().numOutputTokens();
            makespan = Math.max(makespan, o.finishSeconds());
            ttfts[i] = o.ttftSeconds();
            byTenant.computeIfAbsent(o.request().tenantId(), k -> new ArrayList<>()).add(o);
        }
        List<TenantResult> tenants = new ArrayList<>();
        for (var e : byTenant.entrySet()) {
            long tPrompt = 0, tHit = 0, tServed = 0;
            double[] tTtft = new double[e.getValue().size()];
            for (int i = 0; i < tTtft.length; i++) {
                RequestOutcome o = e.getValue().get(i);
                tPrompt += o.request().numPromptTokens();
                tHit += o.numHitTokens();
                tServed += o.request().numPromptTokens() + o.request().numOutputTokens();
                tTtft[i] = o.ttftSeconds();
            }
            tenants.add(new TenantResult(e.getKey(), tTtft.length, ratio(tServed, servedTokens), ratio(tHit, tPrompt),
                    percentile(tTtft, 0.99)));
        }
        double sumBusy = 0, maxBusy = 0;
        for (double b : busySeconds) {
            sumBusy += b;
            maxBusy = Math.max(maxBusy, b);
        }
        double meanBusy = sumBusy / busySeconds.length;
        return new RunResult(policy, numInstances, outcomes.size(), numRejected, ratio(hitTokens, promptTokens),
                ratio(predictedTokens, promptTokens), percentile(ttfts, 0.5), percentile(ttfts, 0.99),
                makespan > 0 ? servedTokens / makespan : 0, makespan > 0 ? meanBusy / makespan : 0,
                meanBusy > 0 ? maxBusy / meanBusy : 1, makespan, List.copyOf(tenants));
    }

    /** Nearest-rank percentile; NaN for no samples. */
    static double percentile(double[] values, double q) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }
}
