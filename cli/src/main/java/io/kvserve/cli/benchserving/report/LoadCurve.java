package io.kvserve.cli.benchserving.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput against offered load for one workload: the points of {@code throughput-vs-rate.png}, in
 * ascending load. Goodput is NaN at runs that did not measure it.
 */
record LoadCurve(String workload, Axis axis, double[] loads, double[] outputTokensPerSecond,
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
     * One curve per workload (in the order first met) over the runs of the axis's mode with a finite
     * load; none unless those runs have at least two distinct loads.
     */
    static List<LoadCurve> of(List<ServingRun> runs, Axis axis) {
        List<ServingRun> onAxis = OfferedLoad.inOrder(runs).stream()
                .filter(r -> r.config().mode() == axis.mode && Double.isFinite(OfferedLoad.of(r).value()))
                .toList();
        if (onAxis.stream().mapToDouble(r -> OfferedLoad.of(r).value()).distinct().count() < 2) {
            return List.of();
        }
        Map<String, List<ServingRun>> byWorkload = new LinkedHashMap<>();
        onAxis.forEach(r -> byWorkload.computeIfAbsent(r.config().workload(), k -> new ArrayList<>()).add(r));
        List<LoadCurve> curves = new ArrayList<>();
        byWorkload.forEach((workload, rs) -> curves.add(new LoadCurve(workload, axis,
                rs.stream().mapToDouble(r -> OfferedLoad.of(r).value()).toArray(),
                rs.stream().mapToDouble(r -> r.summary().outputThroughput()).toArray(),
                rs.stream().mapToDouble(r -> r.summary().requestThroughput()).toArray(),
                rs.stream().mapToDouble(r -> r.summary().goodput().map(ServingRun.Goodput::requestsPerSecond).orElse(Double.NaN)).toArray())));
        return curves;
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
