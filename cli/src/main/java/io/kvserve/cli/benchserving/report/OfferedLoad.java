package io.kvserve.cli.benchserving.report;

import java.util.Comparator;
import java.util.List;

/**
 * The load a run offered: its users in a closed loop, its request rate in an open loop (NaN when
 * the file has none, as a trace replayed at its own timing). Runs are compared in this order: closed
 * loop before open loop, then by users or rate ({@code inf}, then no rate, last), ties in the order
 * given, so that a sweep reads left to right however its files were named ({@code r10, r100, r40}
 * from a shell glob) and an A/B pair at one load stays as given.
 */
record OfferedLoad(ServingRun.Mode mode, double value, int maxConcurrency, int numBurstRequests) {

    static final Comparator<OfferedLoad> ORDER = Comparator.comparing(OfferedLoad::mode).thenComparingDouble(OfferedLoad::value);

    static OfferedLoad of(ServingRun run) {
        ServingRun.Config c = run.config();
        return c.mode() == ServingRun.Mode.CLOSED_LOOP
                ? new OfferedLoad(c.mode(), c.concurrency(), 0, 0)
                : new OfferedLoad(c.mode(), c.requestRate(), c.maxConcurrency(), c.numBurstRequests());
    }

    /** The runs in load order (stable: equal loads keep their given order). */
    static List<ServingRun> inOrder(List<ServingRun> runs) {
        return runs.stream().sorted(Comparator.comparing(OfferedLoad::of, ORDER)).toList();
    }

    /** {@code 4 users}, {@code 10 req/s}, {@code inf req/s}, {@code 10 req/s in bursts of 8, ≤ 8 in flight}; "—" without a rate. */
    String describe() {
        if (mode == ServingRun.Mode.CLOSED_LOOP) {
            return (int) value + ((int) value == 1 ? " user" : " users");
        }
        if (Double.isNaN(value)) {
            return ReportMarkdown.ABSENT;
        }
        String rate = Double.isInfinite(value) ? "inf" : ReportMarkdown.plain(value);
        return rate + " req/s" + (numBurstRequests > 0 ? " in bursts of " + numBurstRequests : "")
                + (maxConcurrency > 0 ? ", ≤ " + maxConcurrency + " in flight" : "");
    }
}
