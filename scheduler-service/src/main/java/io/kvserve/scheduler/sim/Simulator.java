package io.kvserve.scheduler.sim;

import io.kvserve.scheduler.policy.PlacementPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs placement policies over a simulated trace and compares them with the oracle bound, the way
 * Caffeine's simulator compares eviction policies: the same policy classes as the service, a
 * deterministic trace from a seed, one table and two plots.
 *
 * <pre>
 * java -cp scheduler-service/target/classes:$(deps) io.kvserve.scheduler.sim.Simulator \
 *     --workload shared-prefix --instances 4,16 --tenants 8 --duration 600s --seed 1 \
 *     --policies round-robin,least-load,prefix-only,combined --out target/sim
 * </pre>
 * Options: {@code --workload shared-prefix|few-shot|multi-turn|no-reuse}, {@code --instances N,M},
 * {@code --tenants T}, {@code --rate R} (requests/s per instance; default per workload),
 * {@code --arrival poisson|gamma:CV|onoff:ON:OFF}, {@code --duration 600s}, {@code --seed S},
 * {@code --policies a,b}, {@code --heartbeat 2s} (stale snapshot), {@code --tenant-skew 0.8},
 * {@code --kv-blocks 1024}, {@code --max-num-batched-tokens 256}, {@code --max-num-seqs 16},
 * {@code --cost A,B,C} (seconds: per step, per prefill token, per decoding sequence), {@code --out DIR}.
 */
public final class Simulator {

    private Simulator() {
    }

    public static void main(String[] args) throws IOException {
        System.exit(main(args, PolicyRegistry.withMainPolicies()));
    }

    /** The command with another registry (tests, experiments); returns the exit status. */
    public static int main(String[] args, PolicyRegistry registry) throws IOException {
        System.setProperty("java.awt.headless", "true");
        SimulationOptions options;
        List<RunResult> results;
        long startNanos = System.nanoTime();
        try {
            options = parse(args);
            results = run(options, registry);
        } catch (IllegalArgumentException e) {
            System.err.println("simulator: " + e.getMessage());
            return 2;
        }
        double wallSeconds = (System.nanoTime() - startNanos) / 1e9;
        String markdown = Report.markdown(options, results, args);
        System.out.print(markdown);
        System.out.printf(java.util.Locale.ROOT, "%n(simulated in %.1f s of wall time)%n", wallSeconds);
        if (options.outDir() != null) {
            Report.write(options.outDir(), options, results, markdown);
            System.out.println("wrote " + options.outDir().resolve("results.md") + ", results.json, hit-rate.png, ttft-p99.png");
        }
        return 0;
    }

    /** Every policy and the oracle on every cluster size; results in (instances, policy) order, oracle last. */
    public static List<RunResult> run(SimulationOptions options, PolicyRegistry registry) {
        for (String name : options.policies()) {
            registry.create(name); // fail fast on a missing class, before any run
        }
        List<RunResult> results = new ArrayList<>();
        for (int numInstances : options.instanceCounts()) {
            for (String name : options.policies()) {
                PlacementPolicy policy = registry.create(name);
                ClusterSimulation sim = new ClusterSimulation(numInstances, options.instance(), policy,
                        options.heartbeatSeconds());
                results.add(sim.run(Workloads.create(options.workload(), options.workloadConfig(numInstances)), name,
                        numInstances));
            }
            ClusterSimulation oracle = ClusterSimulation.oracle(numInstances, options.instance());
            results.add(oracle.run(Workloads.create(options.workload(), options.workloadConfig(numInstances)), "oracle",
                    numInstances));
        }
        return results;
    }

    public static SimulationOptions parse(String[] args) {
        SimulationOptions d = SimulationOptions.defaults();
        String workload = d.workload();
        List<Integer> instances = d.instanceCounts();
        int tenants = d.numTenants();
        double rate = d.ratePerInstance();
        String arrival = d.arrivalSpec();
        double duration = d.durationSeconds();
        long seed = d.seed();
        List<String> policies = d.policies();
        double heartbeat = d.heartbeatSeconds();
        double skew = d.tenantSkew();
        InstanceSpec spec = d.instance();
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--help") || flag.equals("-h")) {
                throw new IllegalArgumentException("usage: see the javadoc of io.kvserve.scheduler.sim.Simulator");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            String value = args[++i];
            switch (flag) {
                case "--workload" -> workload = value;
                case "--instances" -> instances = Arrays.stream(value.split(",")).map(String::trim).map(Integer::valueOf).toList();
                case "--tenants" -> tenants = Integer.parseInt(value);
                case "--rate" -> rate = Double.parseDouble(value);
                case "--arrival" -> arrival = value;
                case "--duration" -> duration = seconds(value);
                case "--seed" -> seed = Long.parseLong(value);
                case "--policies" -> policies = Arrays.stream(value.split(",")).map(String::trim).toList();
                case "--heartbeat" -> heartbeat = seconds(value);
                case "--tenant-skew" -> skew = Double.parseDouble(value);
                case "--kv-blocks" -> spec = spec.withNumKvBlocks(Long.parseLong(value));
                case "--max-num-batched-tokens" -> spec = new InstanceSpec(spec.numKvBlocks(), Integer.parseInt(value),
                        spec.maxNumSeqs(), spec.maxModelLen(), spec.cost());
                case "--max-num-seqs" -> spec = new InstanceSpec(spec.numKvBlocks(), spec.maxNumBatchedTokens(),
                        Integer.parseInt(value), spec.maxModelLen(), spec.cost());
                case "--cost" -> {
                    double[] abc = Arrays.stream(value.split(",")).mapToDouble(Double::parseDouble).toArray();
                    if (abc.length != 3) {
                        throw new IllegalArgumentException("--cost takes A,B,C in seconds, got " + value);
                    }
                    spec = new InstanceSpec(spec.numKvBlocks(), spec.maxNumBatchedTokens(), spec.maxNumSeqs(),
                            spec.maxModelLen(), new CostModel(abc[0], abc[1], abc[2]));
                }
                case "--out" -> out = Path.of(value);
                default -> throw new IllegalArgumentException("unknown option " + flag);
            }
        }
        if (!Workloads.NAMES.contains(workload)) {
            throw new IllegalArgumentException("unknown workload '" + workload + "': use one of " + Workloads.NAMES);
        }
        ArrivalProcess.parse(arrival, 1); // validate early
        return new SimulationOptions(workload, instances, tenants, rate, arrival, duration, seed, policies, heartbeat,
                skew, spec, out);
    }

    /** {@code 600}, {@code 600s}, {@code 10m}, {@code 1500ms}. */
    static double seconds(String value) {
        if (value.endsWith("ms")) {
            return Double.parseDouble(value.substring(0, value.length() - 2)) / 1000;
        }
        if (value.endsWith("s")) {
            return Double.parseDouble(value.substring(0, value.length() - 1));
        }
        if (value.endsWith("m")) {
            return Double.parseDouble(value.substring(0, value.length() - 1)) * 60;
        }
        return Double.parseDouble(value);
    }
}
