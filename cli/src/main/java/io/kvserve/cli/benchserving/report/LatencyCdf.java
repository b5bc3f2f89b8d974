package io.kvserve.cli.benchserving.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The empirical CDF of one latency over a run's measured, successful requests: for each distinct
 * value x, the share of requests whose latency is at most x. Requests with no value (NaN) are left
 * out; {@code numValues} counts the rest.
 *
 * <pre>
 *   values 30, 10, 20, 20  ->  (10, 0.25) (20, 0.75) (30, 1.0)
 * </pre>
 */
record LatencyCdf(int numValues, List<Point> points) {

    /** @param fraction share of requests with latency &le; {@code latencyMs}, in (0, 1] */
    record Point(double latencyMs, double fraction) {
    }

    LatencyCdf {
        points = List.copyOf(points);
    }

    static LatencyCdf of(ServingRun run, ToDoubleFunction<ServingRun.Request> latencyMs) {
        return of(run.measured().stream().filter(ServingRun.Request::succeeded).mapToDouble(latencyMs).toArray());
    }

    static LatencyCdf of(double[] valuesMs) {
        double[] sorted = Arrays.stream(valuesMs).filter(Double::isFinite).sorted().toArray();
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < sorted.length; i++) {
            if (i + 1 < sorted.length && sorted[i + 1] == sorted[i]) {
                continue; // ties: one point at the last of them
            }
            points.add(new Point(sorted[i], (i + 1) / (double) sorted.length));
        }
        return new LatencyCdf(sorted.length, points);
    }

    boolean isEmpty() {
        return points.isEmpty();
    }

    double[] latenciesMs() {
        return points.stream().mapToDouble(Point::latencyMs).toArray();
    }

    double[] fractions() {
        return points.stream().mapToDouble(Point::fraction).toArray();
    }
}
