package io.kvserve.engine.sched;

/**
 * The limits one scheduling step works under (vLLM's names where the concept is the same).
 *
 * @param maxNumBatchedTokens most new tokens in one step over all sequences (the token budget)
 * @param maxNumSeqs          most sequences running at once
 * @param maxModelLen         most tokens (prompt plus output) one sequence may hold
 * @param agingSeconds        seconds of waiting worth a whole prompt's worth of prefix hits in the
 *                            waiting-queue order: a request that has waited this much longer than
 *                            another outranks it whatever their hits
 * @param maxNumCandidates    waiting requests examined (and ranked) per step, oldest first
 */
public record SchedulerConfig(int maxNumBatchedTokens, int maxNumSeqs, int maxModelLen, double agingSeconds,
                              int maxNumCandidates) {

    /** Waiting requests ranked per step unless told otherwise. */
    public static final int DEFAULT_MAX_NUM_CANDIDATES = 64;

    public SchedulerConfig {
        if (maxNumBatchedTokens < 1 || maxNumSeqs < 1) {
            throw new IllegalArgumentException("maxNumBatchedTokens " + maxNumBatchedTokens + " and maxNumSeqs "
                    + maxNumSeqs + " must be positive");
        }
        if (maxNumBatchedTokens < maxNumSeqs) {
            throw new IllegalArgumentException("maxNumBatchedTokens " + maxNumBatchedTokens + " < maxNumSeqs "
                    + maxNumSeqs + ": a step could not hold one decode token per running sequence; raise "
                    + "maxNumBatchedTokens to at least " + maxNumSeqs);
        }
        if (maxModelLen < 2) {
            throw new IllegalArgumentException("maxModelLen must be >= 2 (one prompt token and one output), got "
                    + maxModelLen);
        }
        if (!(agingSeconds > 0) || Double.isInfinite(agingSeconds)) {
            throw new IllegalArgumentException("agingSeconds must be positive and finite, got " + agingSeconds);
        }
        if (maxNumCandidates < 1) {
            throw new IllegalArgumentException("maxNumCandidates must be >= 1, got " + maxNumCandidates);
        }
    }

    public SchedulerConfig(int maxNumBatchedTokens, int maxNumSeqs, int maxModelLen, double agingSeconds) {
        this(maxNumBatchedTokens, maxNumSeqs, maxModelLen, agingSeconds, DEFAULT_MAX_NUM_CANDIDATES);
    }
}
