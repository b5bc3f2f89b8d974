package io.kvserve.scheduler.sim;

/**
 * A trace of simulated requests in arrival order, generated lazily and deterministically from a seed.
 * See {@link Workloads} for the four kinds (shared-prefix, few-shot, multi-turn, no-reuse).
 */
public interface Workload {

    String name();

    /** The next request, arrival times never decreasing; {@code null} when the trace has ended. */
    SimRequest next();
}
