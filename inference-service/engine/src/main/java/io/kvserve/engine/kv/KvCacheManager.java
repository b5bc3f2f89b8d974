package io.kvserve.engine.kv;

import io.kvserve.common.kvcache.BlockHash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Per-request block tables over a {@link BlockPool}, with automatic prefix caching: vLLM v1's
 * {@code KVCacheManager} [1] for one attention type.
 *
 * <h2>Slots</h2>
 * A request's tokens live in fixed-size blocks; its block table maps a block index to a physical
 * block id. For blockSize = 4 and block table [7, 2, 5]:
 * <pre>
 *   token position p   0  1  2  3 |  4  5  6  7 |  8  9  .  .
 *   block index p / 4  ----0------|-----1-------|-----2------
 *   offset      p % 4  0  1  2  3 |  0  1  2  3 |  0  1  2  3
 *   physical block     7          |  2          |  5   (2 free slots)
 *   slot = blockTable[p / blockSize] * blockSize + p % blockSize      p = 9: 5 * 4 + 1 = 21
 * </pre>
 * A call {@code allocateSlots(r, numNewTokens, chain)} grows the table to hold
 * {@code numTokens + numNewTokens} tokens, {@code ceil(total / blockSize)} blocks. On a request's
 * first call the leading blocks are looked up in the prefix cache first:
 * <pre>
 *   |&lt;------------------------- numNewTokens (first call) ------------------------&gt;|
 *   |&lt;------- cached prefix: hit blocks -------&gt;|&lt;------ to compute this step -----&gt;|
 *   [ hit 0 ][ hit 1 ][ hit 2 ]                 [ new ][ new ][ new ][ new ][ ne.. ]
 *     touched (ref count +1)                      allocated from the free queue head
 *   the hit stops at (numNewTokens - 1) / blockSize blocks: at least one token is computed,
 *   so the step has logits to sample from (vLLM's rule)
 * </pre>
 * Then every block that the call makes full, and for which {@code chain} has a hash, is cached under
 * that hash ({@code chain.get(i)} names block i); vLLM caches at allocation too, since the step that
 * follows writes exactly those tokens.
 *
 * <p>Statistics count prompt tokens on a request's first successful call: queries += the tokens the
 * lookup stood for (the caller's whole prompt, else numNewTokens), hits += cached tokens (vLLM's
 * {@code prefix_cache_queries}/{@code prefix_cache_hits}).
 *
 * <p>Limit: the prefix is matched only on the first call, so with chunked prefill the first call
 * should pass the whole prompt's tokens, or the hit is capped by the first chunk.
 *
 * <p>Not thread-safe: the engine's step-loop thread owns it.
 *
 * <h2>References</h2>
 * <ol>
 *   <li>vLLM, vllm/v1/core/kv_cache_manager.py ({@code allocate_slots}, {@code get_computed_blocks},
 *       {@code free}).</li>
 * </ol>
 */
public final class KvCacheManager {

    private final BlockPool pool;
    private final int blockSize;
    private final Map<String, RequestBlocks> requests = new HashMap<>();
    private long prefixCacheQueries;
    private long prefixCacheHits;

    public KvCacheManager(BlockPool pool, int blockSize) {
        this.pool = Objects.requireNonNull(pool, "pool");
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
        this.blockSize = blockSize;
    }

    public int blockSize() {
        return blockSize;
    }

    /** The block of token position {@code position}: {@code position / blockSize}. */
    public static int blockIndex(int position, int blockSize) {
        return position / blockSize;
    }

    /** The offset of token position {@code position} inside its block: {@code position % blockSize}. */
    public static int blockOffset(int position, int blockSize) {
        return position % blockSize;
    }

    /** The KV slot of {@code position} for a request: see the picture in the class comment. */
    public int slot(String requestId, int position) {
        RequestBlocks req = requests.get(requestId);
        if (req == null || position < 0 || position >= req.numTokens) {
            throw new IndexOutOfBoundsException("position " + position + " outside request " + requestId
                    + " holding " + (req == null ? 0 : req.numTokens) + " tokens");
        }
        return req.blockIds[blockIndex(position, blockSize)] * blockSize + blockOffset(position, blockSize);
    }

    /**
     * The longest run of leading hashes of {@code chain} that are cached (stopping at the first
     * miss), and their blocks. Only looks: nothing is touched or counted.
     */
    public PrefixHit findCachedPrefix(List<BlockHash> chain) {
        return findCachedPrefix(chain, chain.size());
    }

    private PrefixHit findCachedPrefix(List<BlockHash> chain, int maxBlocks) {
        List<Integer> blockIds = new ArrayList<>();
        if (pool.enablePrefixCaching()) {
            for (int i = 0; i < Math.min(maxBlocks, chain.size()); i++) {
                OptionalInt id = pool.cachedBlockId(chain.get(i));
                if (id.isEmpty()) {
                    break;
                }
                blockIds.add(id.getAsInt());
            }
        }
        return new PrefixHit(blockIds, blockIds.size() * blockSize);
    }

    /**
     * Grows the block table of {@code requestId} (created on the first call) by
     * {@code numNewTokens} token slots, reusing cached prefix blocks on the first call, and caches
     * the blocks this makes full under their hashes in {@code chain} (the request's hash chain so far,
     * block 0 first; it may be shorter or longer than the table). See the class comment.
     */
    public AllocationResult allocateSlots(String requestId, int numNewTokens, List<BlockHash> chain) {
        return allocateSlots(requestId, numNewTokens, chain, numNewTokens);
    }

    /**
     * As {@link #allocateSlots(String, int, List)}, counting {@code numQueriedTokens} as the tokens
     * the first call's prefix lookup stood for: the request's whole prompt, as vLLM counts
     * {@code prefix_cache_queries}, where a chunked prefill's first call passes only the hit and the
     * first chunk (counting those made the hit rate read high: a 2k-token prompt with 1.7k cached
     * tokens and a 256-token chunk counted 1.7k of 1.97k).
     */
    public AllocationResult allocateSlots(String requestId, int numNewTokens, List<BlockHash> chain,
                                          int numQueriedTokens) {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(chain, "chain");
        if (numNewTokens < 0) {
            throw new IllegalArgumentException("numNewTokens must be >= 0, got " + numNewTokens);
        }
        RequestBlocks req = requests.get(requestId);
        boolean isNew = req == null;
        PrefixHit hit = isNew
                ? findCachedPrefix(chain, Math.max(0, numNewTokens - 1) / blockSize)
                : new PrefixHit(List.of(), 0);

        int numTokensAfter = (isNew ? 0 : req.numTokens) + numNewTokens;
        int numBlocksHeld = isNew ? hit.numBlocks() : req.numBlocks;
        int numNewBlocks = Math.max(0, ceilDiv(numTokensAfter, blockSize) - numBlocksHeld);
        int numRevived = 0;
        for (int id : hit.blockIds()) {
            if (pool.refCount(id) == 0) {
                numRevived++;
            }
        }
        int numBlocksAvailable = pool.numFreeBlocks() - numRevived;
        if (numNewBlocks > numBlocksAvailable) {
            return new AllocationResult.NoFreeBlocks(numNewBlocks, numBlocksAvailable);
        }

        for (int id : hit.blockIds()) {
            pool.touch(id);
        }
        int[] newBlockIds = pool.allocate(numNewBlocks).orElseThrow(
                () -> new IllegalStateException("pool refused " + numNewBlocks + " blocks after checking"));
        if (isNew) {
            req = new RequestBlocks();
            requests.put(requestId, req);
            for (int id : hit.blockIds()) {
                req.append(id);
            }
            req.numHashedBlocks = hit.numBlocks();
            prefixCacheQueries += Math.max(numQueriedTokens, numNewTokens);
            prefixCacheHits += hit.numTokens();
        }
        for (int id : newBlockIds) {
            req.append(id);
        }
        req.numTokens = numTokensAfter;
        cacheFullBlocks(req, chain);
        return new AllocationResult.Allocated(newBlockIds, hit.numTokens());
    }

    private void cacheFullBlocks(RequestBlocks req, List<BlockHash> chain) {
        int numFullBlocks = Math.min(req.numTokens / blockSize, chain.size());
        for (int i = req.numHashedBlocks; i < numFullBlocks; i++) {
            Optional<BlockHash> parent = i == 0 ? Optional.empty() : Optional.of(chain.get(i - 1));
            pool.cacheFullBlock(req.blockIds[i], chain.get(i), parent, blockSize);
        }
        req.numHashedBlocks = Math.max(req.numHashedBlocks, numFullBlocks);
    }

    /**
     * A copy of a request's block table, block 0 first (what a {@code ForwardBatch} row takes); empty
     * for an unknown request.
     */
    public int[] blockTable(String requestId) {
        RequestBlocks req = requests.get(requestId);
        return req == null ? new int[0] : Arrays.copyOf(req.blockIds, req.numBlocks);
    }

    /** Token slots a request holds; 0 for an unknown request. */
    public int numTokens(String requestId) {
        RequestBlocks req = requests.get(requestId);
        return req == null ? 0 : req.numTokens;
    }

    /**
     * Releases a finished or preempted request's blocks, last block first, so that its tail blocks
     * reach the free queue (and eviction) before its prefix. False for an unknown request.
     */
    public boolean free(String requestId) {
        RequestBlocks req = requests.remove(requestId);
        if (req == null) {
            return false;
        }
        for (int i = req.numBlocks - 1; i >= 0; i--) {
            pool.free(req.blockIds[i]);
        }
        return true;
    }

    /**
     * Drops from the prefix cache the blocks of {@code requestId} from the one holding token
     * {@code numWrittenTokens} on, keeping the blocks in its table: they were cached when allocated,
     * for the step that was to write them, and that step failed. Blocks wholly before
     * {@code numWrittenTokens} stay cached. Call it before freeing the request. A no-op for an
     * unknown request.
     * <pre>
     *   blockSize 4, numWrittenTokens 6, the failed step scheduled tokens 6..11:
     *   | 0  1  2  3 | 4  5  6  7 | 8  9 10 11 |
     *   |  written   |  partly    |  unwritten |
     *     stays cached  uncached     uncached
     * </pre>
     */
    public void uncacheUnwritten(String requestId, int numWrittenTokens) {
        RequestBlocks req = requests.get(requestId);
        if (req == null) {
            return;
        }
        int firstUnwritten = blockIndex(numWrittenTokens, blockSize);
        for (int i = firstUnwritten; i < req.numHashedBlocks; i++) {
            pool.evictHash(req.blockIds[i]);
        }
        req.numHashedBlocks = Math.min(req.numHashedBlocks, firstUnwritten);
    }

    /** Announces the whole prefix cache again: see {@link BlockPool#reannounce()}. */
    public void reannounce() {
        pool.reannounce();
    }

    /** Requests holding a block table. */
    public int numRequests() {
        return requests.size();
    }

    public int numFreeBlocks() {
        return pool.numFreeBlocks();
    }

    /** Fraction of blocks in use, 0..1. */
    public double usage() {
        return pool.usage();
    }

    /** Prompt tokens looked up in the prefix cache (first calls that succeeded). */
    public long prefixCacheQueries() {
        return prefixCacheQueries;
    }

    /** Of {@link #prefixCacheQueries()}, tokens served from the cache. */
    public long prefixCacheHits() {
        return prefixCacheHits;
    }

    BlockPool pool() {
        return pool;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static final class RequestBlocks {
        int[] blockIds = new int[4];
        int numBlocks;
        int numTokens;
        int numHashedBlocks;

        void append(int blockId) {
            if (numBlocks == blockIds.length) {
                blockIds = Arrays.copyOf(blockIds, 2 * numBlocks);
            }
            blockIds[numBlocks++] = blockId;
        }
    }
}
