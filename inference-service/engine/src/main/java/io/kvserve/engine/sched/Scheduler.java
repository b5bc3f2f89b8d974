package io.kvserve.engine.sched;

import java.util.List;

/**
 * Decides, step by step, which requests run and which tokens of each are computed, over a token
 * budget and a KV cache (vLLM v1's {@code Scheduler}). Owned by the engine's step-loop thread: no
 * method is thread-safe.
 *
 * <p>The protocol of one step: {@link #schedule()}, run the model on the output, then for each
 * sequence that sampled, {@link Request#appendToken} and, when it is done, {@link #finish}.
 */
public interface Scheduler {

    /** Queues a new request at the tail of the waiting queue. */
    void add(Request request);

    /**
     * Picks this step's sequences and reserves their KV slots; advances each scheduled request's
     * {@link Request#numComputedTokens()} by its chunk. May preempt running requests.
     */
    SchedulerOutput schedule();

    /** Removes a waiting or running request and frees its blocks; null for an unknown request. */
    Request finish(String requestId);

    /** Waiting requests in the order the next step would consider them; for tests, metrics and debugging. */
    List<String> rankedWaitingIds();

    int numRunning();

    int numWaiting();

    default boolean hasUnfinished() {
        return numRunning() + numWaiting() > 0;
    }

    /** Preemptions since creation. */
    long numPreemptions();
}
