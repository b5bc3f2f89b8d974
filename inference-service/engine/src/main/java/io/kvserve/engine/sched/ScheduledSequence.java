package io.kvserve.engine.sched;

/**
 * What one sequence runs in a step: {@code tokenIds} fed at positions
 * {@code startPosition .. startPosition + tokenIds.length - 1}, its KV in the blocks of
 * {@code blockTable}. The arrays are fresh copies owned by this record; nobody writes to them.
 *
 * @param requestId     the request
 * @param tokenIds      (numNewTokens) the tokens to compute: a prompt chunk, a recompute chunk after
 *                      preemption, or the one token of a decode
 * @param startPosition position of {@code tokenIds[0]}; positions before it are in the KV cache
 * @param blockTable    (numBlocks) the request's block ids, covering at least its last new position
 * @param samples       whether the step samples a token from this sequence's last position: true for
 *                      a decode and for the chunk that completes the known tokens, false for a
 *                      partial prefill chunk
 */
public record ScheduledSequence(String requestId, int[] tokenIds, int startPosition, int[] blockTable,
                                boolean samples) {

    public int numNewTokens() {
        return tokenIds.length;
    }
}
