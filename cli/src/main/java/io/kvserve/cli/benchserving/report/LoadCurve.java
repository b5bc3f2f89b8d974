package io.kvserve.cli.benchserving.report;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput against offered load for one sweep: the points of {@code throughput-vs-rate.png}, in
 * ascending load. Goodput is NaN at runs that did not measure it.
 *
 * <p>A sweep is the runs of one workload with the same parameters. Within it, a load met again
 * starts another sweep: {@code on-r1 on-r2 off-r1 off-r2} (one workload, the server changed between
 * them) are two curves, {@code on-r*} and {@code off-r*}, rather than one zigzag through both.
 *
 * @param name what the legend calls the curve: the workload, or the runs' common label prefix when
 *             one workload has several curves
 */
record LoadCurve(String name, Axis axis, double[] loads, double[] outputTokensPerSecond,
                 double[] requestsPerSecond, double[] goodputRequestsPerSecond) {

    /** What the x axis is: open-loop runs by request rate, closed-loop runs by users. */
    enum Axis {
        REQUEST_RATE(ServingRun.Mode.OPEN_LOOP, "request rate", "offered request rate (req/s)"),
        CONCURRENCY(ServingRun.Mode.CLOSED_LOOP, "concurrency", "concurrency (users, closed loop)");

        final ServingRun.Mode mode;
        final String noun;
        final String title;

        Axis(ServingRun.Mode mode, String noun, String title) {
            this.mode = mode;
            this.noun = noun;
            this.title = title;
        }
    }

    /**
     * The curves over the runs (in the order given) of the axis's mode with a finite load, in the
     * order first met; none unless at least one curve has two or more loads.
     */
    static List<LoadCurve> of(List<ServingRun> runs, Axis axis) {
        // sweep key -> sweeps of that key, each a list of runs with distinct loads
        Map<String, List<List<ServingRun>>> sweeps = new LinkedHashMap<>();
        for (ServingRun r : runs) {
            double load = OfferedLoad.of(r).value();
            if (r.config().mode() != axis.mode || !Double.isFinite(load)) {
                continue;
            }
            List<List<ServingRun>> ofKey = sweeps.computeIfAbsent(r.config().workload() + " " + r.config().workloadParams(),
                    k -> new ArrayList<>());
            List<ServingRun> sweep = ofKey.stream()
                    .filter(s -> s.stream().noneMatch(x -> OfferedLoad.of(x).value() == load))
                    .findFirst().orElse(null);
            if (sweep == null) {
                sweep = new ArrayList<>();
                ofKey.add(sweep);
            }
            sweep.add(r);
        }
        List<List<ServingRun>> all = sweeps.values().stream().flatMap(List::stream).toList();
        if (all.stream().noneMatch(s -> s.size() >= 2)) {
            return List.of();
        }
        Map<String, Integer> perWorkload = new HashMap<>();
        all.forEach(s -> perWorkload.merge(s.getFirst().config().workload(), 1, Integer::sum));
        List<LoadCurve> curves = new ArrayList<>();
        for (List<ServingRun> sweep : all) {
            List<ServingRun> rs = OfferedLoad.inOrder(sweep);
            String workload = rs.getFirst().config().workload();
            String name = perWorkload.get(workload) == 1 && !workload.isEmpty() ? workload : commonLabel(rs);
            curves.add(new LoadCurve(name, axis,
                    rs.stream().mapToDouble(r -> OfferedLoad.of(r).value()).toArray(),
                    rs.stream().mapToDouble(r -> r.summary().outputThroughput()).toArray(),
                    rs.stream().mapToDouble(r -> r.summary().requestThroughput()).toArray(),
                    rs.stream().mapToDouble(r -> r.summary().goodput().map(ServingRun.Goodput::requestsPerSecond).orElse(Double.NaN))
                            .toArray()));
        }
        return curves;
    }

    /** {@code on-r1, on-r2} -> {@code on-r*}; one run -> its label. */
    static String commonLabel(List<ServingRun> runs) {
        String prefix = runs.getFirst().label();
        for (ServingRun r : runs) {
            int n = 0;
            while (n < prefix.length() && n < r.label().length() && prefix.charAt(n) == r.label().charAt(n)) {
                n++;
            }
            prefix = prefix.substring(0, n);
        }
        return runs.size() == 1 ? prefix : prefix + "*";
    }

    boolean hasGoodput() {
        for (double g : goodputRequestsPerSecond) {
            if (!Double.isNaN(g)) {
                return true;
            }
        }
        return false;
    }
}
