package io.kvserve.scheduler.sim;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One simulator invocation, as parsed from the command line by {@link Simulator#parse}.
 *
 * @param workload            workload name ({@link Workloads#NAMES})
 * @param instanceCounts      cluster sizes to compare, e.g. 4 and 16
 * @param numTenants          tenants
 * @param ratePerInstance     mean arrivals per second per instance (total rate = this x instances);
 *                            NaN = the workload's default ({@link #DEFAULT_RATE_PER_INSTANCE})
 * @param arrivalSpec         {@code poisson}, {@code gamma:CV} or {@code onoff:ON:OFF}
 * @param durationSeconds     arrivals in [0, duration); the run then drains
 * @param seed                trace seed
 * @param policies            policy names, run in this order
 * @param heartbeatSeconds    0 = live snapshot; else load figures as of the last heartbeat
 * @param tenantSkew          Zipf exponent of tenant popularity
 * @param instance            each instance's shape and cost model
 * @param outDir              where results.md, results.json and the plots go; null = stdout only
 */
public record SimulationOptions(String workload, List<Integer> instanceCounts, int numTenants, double ratePerInstance,
                                String arrivalSpec, double durationSeconds, long seed, List<String> policies,
                                double heartbeatSeconds, double tenantSkew, InstanceSpec instance, Path outDir) {

    /**
     * Arrivals per second per instance that keep the default instance (smollm2-135m Q8_0 on 2 cores,
     * 1024 KV blocks) busy about 70-80% of the time under round-robin placement (the cache-blind
     * baseline), at 4 and at 16 instances, seed 1, 600 s; a placement with more hits does the same
     * work in less busy time. Found by sweeping {@code --rate} (2026-11-22): shared-prefix 0.3 -> 55%,
     * 0.5 -> 87%; few-shot 0.7 -> 78%; multi-turn 0.7 -> 65-77%; no-reuse 0.3 -> 63%, 0.5 -> 96%.
     */
    public static final Map<String, Double> DEFAULT_RATE_PER_INSTANCE = Map.of(
            "shared-prefix", 0.4, "few-shot", 0.7, "multi-turn", 0.7, "no-reuse", 0.36);

    public SimulationOptions {
        instanceCounts = List.copyOf(instanceCounts);
        policies = List.copyOf(policies);
        if (instanceCounts.isEmpty() || policies.isEmpty()) {
            throw new IllegalArgumentException("need at least one instance count and one policy");
        }
    }

    public static SimulationOptions defaults() {
        return new SimulationOptions("shared-prefix", List.of(4, 16), 8, Double.NaN, "poisson", 600, 1,
                List.of("round-robin", "least-load", "prefix-only", "combined"), 0, 0.8, InstanceSpec.DEFAULT, null);
    }

    public double effectiveRatePerInstance() {
        return Double.isNaN(ratePerInstance) ? DEFAULT_RATE_PER_INSTANCE.getOrDefault(workload, 1.0) : ratePerInstance;
    }

    public WorkloadConfig workloadConfig(int numInstances) {
        return new WorkloadConfig(numTenants, ArrivalProcess.parse(arrivalSpec, effectiveRatePerInstance() * numInstances),
                durationSeconds, seed, tenantSkew);
    }
}
