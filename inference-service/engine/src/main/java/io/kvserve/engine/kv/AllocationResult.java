package io.kvserve.engine.kv;

/** The outcome of {@link KvCacheManager#allocateSlots}: blocks were found, or nothing changed. */
public sealed interface AllocationResult {

    /**
     * The request's block table now covers its tokens.
     *
     * @param newBlockIds blocks freshly allocated by this call, appended to the block table in order
     *                    (cached prefix blocks are not in it); a fresh array, not shared with the
     *                    manager, so it is not copied (this record is made on every decode)
     * @param numCachedTokens leading tokens whose KV was found in the prefix cache (non-zero only on
     *                        a request's first call); the caller computes from this position on
     */
    record Allocated(int[] newBlockIds, int numCachedTokens) implements AllocationResult {
    }

    /**
     * Too few free blocks; the pool, the request and the statistics are unchanged. The scheduler
     * waits or preempts.
     *
     * @param numBlocksNeeded blocks the call would have had to allocate
     * @param numBlocksAvailable blocks it could have allocated (free blocks not claimed by its own prefix hit)
     */
    record NoFreeBlocks(int numBlocksNeeded, int numBlocksAvailable) implements AllocationResult {
    }
}
