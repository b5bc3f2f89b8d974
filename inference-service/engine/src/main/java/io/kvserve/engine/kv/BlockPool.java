package io.kvserve.engine.kv;

import io.kvserve.common.kvcache.BlockHash;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The bookkeeping of a paged KV cache: which of {@code numBlocks} physical blocks are in use, by how
 * many requests, which hold a reusable full block of some prefix, and which to evict next. The KV
 * tensors themselves live elsewhere and are indexed by the block ids handed out here.
 *
 * <h2>Design</h2>
 * This follows vLLM v1's {@code BlockPool} [1] and its {@code KVCacheManager} [2]. Each block has a
 * reference count (the number of running requests whose block table holds it) and, once its
 * {@code blockSize} tokens are all written, a chained {@link BlockHash} [3] under which any later
 * request with the same prefix can reuse it.
 *
 * <p>A block whose count drops to 0 is <em>not</em> wiped: it keeps its hash and joins the tail of
 * the <em>free queue</em>, a doubly-linked list that is both the free list and the LRU order of the
 * prefix cache. Allocation takes from the head, so the least-recently freed block is evicted first;
 * only then does its hash leave the cache (a {@link KvEvent.BlockRemoved}). A prefix hit on a free
 * cached block revives it ({@link #touch}): it is unlinked from the middle of the queue in O(1) and
 * its count goes back up. So "free" and "cached" are not exclusive, and the pool never needs a
 * separate eviction pass: memory pressure alone decides what is forgotten, as in vLLM's automatic
 * prefix caching [3] and SGLang's radix cache [4] (which evicts leaves by LRU instead).
 *
 * <p>The queue is two {@code int} arrays of links with a sentinel at index {@code numBlocks}, so
 * allocate, free and touch are O(1) per block and allocation-free apart from the returned ids, as
 * in vLLM's {@code FreeKVCacheBlockQueue} [1], which replaced a Python deque for the same reason.
 * Requests release their blocks tail-first ({@link KvCacheManager#free}), so a chain's last blocks
 * sit nearer the head and are evicted before its first ones: an evicted early block would make
 * every later block of the chain unreachable anyway.
 *
 * <p>One block per hash: if a second block is completed under a hash that is already cached (two
 * requests computed the same prefix in the same step), it stays uncached and is simply freed later;
 * vLLM keeps both [1], which saves nothing but an occasional recompute.
 *
 * <p>Each cached block also remembers its parent's hash and its token count, so that
 * {@link #reannounce} can replay the whole cache as events (parents first) for a consumer that lost
 * some: the kvshare index rebuilds from it after Redis or the event buffer dropped events.
 *
 * <p>Expected outcomes are return values: {@link #allocate} returns empty when too few blocks are
 * free. Exceptions mean a caller bug (freeing a free block, a block id out of range). Not
 * thread-safe: the engine's step-loop thread owns the pool.
 *
 * <h2>References</h2>
 * <ol>
 *   <li>vLLM, vllm/v1/core/block_pool.py ({@code BlockPool}, {@code FreeKVCacheBlockQueue}).</li>
 *   <li>vLLM, vllm/v1/core/kv_cache_manager.py ({@code allocate_slots}, {@code get_computed_blocks}).</li>
 *   <li>vLLM, Automatic Prefix Caching, docs/design/prefix_caching.md; Kwon et al., "Efficient
 *       Memory Management for Large Language Model Serving with PagedAttention", SOSP 2023.</li>
 *   <li>Zheng et al., "SGLang: Efficient Execution of Structured Language Model Programs"
 *       (RadixAttention), NeurIPS 2024.</li>
 * </ol>
 */
public final class BlockPool {

    private static final int NOT_QUEUED = -1;

    private final int numBlocks;
    private final boolean enablePrefixCaching;
    private final KvEventListener listener;

    private final int[] refCounts;           // (numBlocks)
    private final BlockHash[] hashes;        // (numBlocks), null where the block holds no cached full block
    private final BlockHash[] parentHashes;  // (numBlocks), the cached block's parent hash; null for block 0 of a chain
    private final int[] numCachedTokens;     // (numBlocks), tokens of the cached block (for re-announcing)
    private final int[] prevFree;            // (numBlocks + 1) free-queue links; [numBlocks] is the sentinel,
    private final int[] nextFree;            //   NOT_QUEUED where a block is in use
    private final Map<BlockHash, Integer> cachedBlockIds = new HashMap<>();
    private int numFreeBlocks;

    /**
     * @param numBlocks physical blocks in the KV cache
     * @param enablePrefixCaching whether full blocks may be cached under their hash for reuse
     * @param listener receives the stored/removed/cleared events; {@link KvEventListener#NONE} for none
     */
    public BlockPool(int numBlocks, boolean enablePrefixCaching, KvEventListener listener) {
        if (numBlocks < 1) {
            throw new IllegalArgumentException("numBlocks must be >= 1, got " + numBlocks);
        }
        this.numBlocks = numBlocks;
        this.enablePrefixCaching = enablePrefixCaching;
        this.listener = Objects.requireNonNull(listener, "listener");
        this.refCounts = new int[numBlocks];
        this.hashes = new BlockHash[numBlocks];
        this.parentHashes = new BlockHash[numBlocks];
        this.numCachedTokens = new int[numBlocks];
        this.prevFree = new int[numBlocks + 1];
        this.nextFree = new int[numBlocks + 1];
        prevFree[numBlocks] = numBlocks;
        nextFree[numBlocks] = numBlocks;
        for (int id = 0; id < numBlocks; id++) {
            appendToFreeQueue(id);
        }
    }

    public int numBlocks() {
        return numBlocks;
    }

    /** Blocks with reference count 0, cached or not: what {@link #allocate} can hand out. */
    public int numFreeBlocks() {
        return numFreeBlocks;
    }

    public int numUsedBlocks() {
        return numBlocks - numFreeBlocks;
    }

    /** Fraction of blocks in use, 0..1 (vLLM's {@code kv_cache_usage_perc}). */
    public double usage() {
        return (double) numUsedBlocks() / numBlocks;
    }

    public boolean enablePrefixCaching() {
        return enablePrefixCaching;
    }

    /** Full blocks currently cached under a hash, in use or free. */
    public int numCachedBlocks() {
        return cachedBlockIds.size();
    }

    /**
     * Takes {@code numBlocksToAllocate} blocks from the head of the free queue, each with reference
     * count 1 and no hash. A cached block taken this way is evicted: its hash leaves the cache and a
     * {@link KvEvent.BlockRemoved} is emitted. Empty, with nothing changed, when fewer blocks are free.
     */
    public Optional<int[]> allocate(int numBlocksToAllocate) {
        if (numBlocksToAllocate < 0) {
            throw new IllegalArgumentException("numBlocksToAllocate must be >= 0, got " + numBlocksToAllocate);
        }
        if (numBlocksToAllocate > numFreeBlocks) {
            return Optional.empty();
        }
        int[] blockIds = new int[numBlocksToAllocate];
        for (int i = 0; i < numBlocksToAllocate; i++) {
            int id = nextFree[numBlocks];
            unlinkFromFreeQueue(id);
            evictHash(id);
            refCounts[id] = 1;
            blockIds[i] = id;
        }
        return Optional.of(blockIds);
    }

    /**
     * Drops one reference to each block, in the given order; a block whose count reaches 0 goes to
     * the tail of the free queue and keeps its hash, so a later prefix hit can still revive it.
     */
    public void free(int... blockIds) {
        for (int id : blockIds) {
            checkId(id);
            if (refCounts[id] == 0) {
                throw new IllegalStateException("block " + id + " freed while already free");
            }
            if (--refCounts[id] == 0) {
                appendToFreeQueue(id);
            }
        }
    }

    /**
     * Adds a reference to a block found by a prefix hit; a free block is revived (unlinked from the
     * free queue, so it can no longer be evicted).
     */
    public void touch(int blockId) {
        checkId(blockId);
        if (refCounts[blockId] == 0) {
            unlinkFromFreeQueue(blockId);
        }
        refCounts[blockId]++;
    }

    /** The block cached under {@code hash}, in use or free; empty on a miss or with caching off. */
    public OptionalInt cachedBlockId(BlockHash hash) {
        Integer id = cachedBlockIds.get(hash);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * Makes the in-use block {@code blockId}, whose {@code numTokens} tokens are all written (or
     * scheduled to be written this step), reusable under {@code hash}, and emits
     * {@link KvEvent.BlockStored}. Returns false, changing nothing, when prefix caching is off, when
     * the block is already cached under this hash, or when another block already holds the hash.
     */
    public boolean cacheFullBlock(int blockId, BlockHash hash, Optional<BlockHash> parentHash, int numTokens) {
        checkId(blockId);
        Objects.requireNonNull(hash, "hash");
        Objects.requireNonNull(parentHash, "parentHash");
        if (refCounts[blockId] == 0) {
            throw new IllegalStateException("block " + blockId + " is free; only a block in use can be cached");
        }
        if (!enablePrefixCaching) {
            return false;
        }
        BlockHash existing = hashes[blockId];
        if (existing != null) {
            if (existing.equals(hash)) {
                return false;
            }
            throw new IllegalStateException("block " + blockId + " is already cached as " + existing
                    + ", cannot re-cache it as " + hash);
        }
        if (cachedBlockIds.putIfAbsent(hash, blockId) != null) {
            return false;
        }
        hashes[blockId] = hash;
        parentHashes[blockId] = parentHash.orElse(null);
        numCachedTokens[blockId] = numTokens;
        listener.onEvent(new KvEvent.BlockStored(hash, parentHash, numTokens));
        return true;
    }

    /**
     * Forgets every cached hash and emits {@link KvEvent.AllCleared}, as vLLM's
     * {@code reset_prefix_cache}. Only when no block is in use (otherwise a running request's blocks
     * would later be freed with stale state); returns false, changing nothing, when some are.
     */
    public boolean reset() {
        if (numFreeBlocks != numBlocks) {
            return false;
        }
        cachedBlockIds.clear();
        java.util.Arrays.fill(hashes, null);
        java.util.Arrays.fill(parentHashes, null);
        listener.onEvent(new KvEvent.AllCleared());
        return true;
    }

    /**
     * Announces the whole prefix cache again, changing nothing: an {@link KvEvent.AllCleared}, then a
     * {@link KvEvent.BlockStored} for every cached block, in use or free. A block comes after its parent
     * whenever the parent is cached too, so a consumer that folds the events in order sees every chain
     * from its root; a block whose parent was evicted comes with that parent's hash all the same.
     * For a consumer whose view of this pool was lost or has a gap (the inference service calls it
     * after its event buffer overflowed or Redis was unreachable, and when kvshare asks). Allocates in
     * proportion to the cache; not for the hot path.
     */
    public void reannounce() {
        listener.onEvent(new KvEvent.AllCleared());
        boolean[] announced = new boolean[numBlocks];
        boolean[] onStack = new boolean[numBlocks];
        int[] stack = new int[numBlocks]; // a block, then its ancestors not announced yet: announced top down
        for (int id = 0; id < numBlocks; id++) {
            if (hashes[id] == null || announced[id]) {
                continue;
            }
            int top = 0;
            stack[top++] = id;
            onStack[id] = true;
            while (top > 0) {
                int b = stack[top - 1];
                BlockHash parent = parentHashes[b];
                Integer parentId = parent == null ? null : cachedBlockIds.get(parent);
                if (parentId != null && !announced[parentId] && !onStack[parentId]) { // onStack: a hash cycle
                    stack[top++] = parentId;
                    onStack[parentId] = true;
                    continue;
                }
                top--;
                onStack[b] = false;
                announced[b] = true;
                listener.onEvent(new KvEvent.BlockStored(hashes[b], Optional.ofNullable(parent), numCachedTokens[b]));
            }
        }
    }

    /** The reference count of a block (0 when free). */
    public int refCount(int blockId) {
        checkId(blockId);
        return refCounts[blockId];
    }

    /** The hash a block is cached under, if any. */
    public Optional<BlockHash> hash(int blockId) {
        checkId(blockId);
        return Optional.ofNullable(hashes[blockId]);
    }

    /** The free queue from head (next evicted) to tail (most recently freed); for tests and debugging. */
    int[] freeQueueBlockIds() {
        int[] ids = new int[numFreeBlocks];
        int i = 0;
        for (int id = nextFree[numBlocks]; id != numBlocks; id = nextFree[id]) {
            ids[i++] = id;
        }
        if (i != numFreeBlocks) {
            throw new IllegalStateException("free queue has " + i + " blocks, counter says " + numFreeBlocks);
        }
        return ids;
    }

    /** A read-only view of hash -> block id; for tests and debugging. */
    Map<BlockHash, Integer> cachedBlockIds() {
        return Collections.unmodifiableMap(cachedBlockIds);
    }

    /**
     * Forgets the hash block {@code id} is cached under, if any, emitting {@link KvEvent.BlockRemoved};
     * for eviction, and for a block cached at allocation whose KV was then never written.
     */
    void evictHash(int id) {
        checkId(id);
        BlockHash hash = hashes[id];
        if (hash != null) {
            hashes[id] = null;
            parentHashes[id] = null;
            cachedBlockIds.remove(hash);
            listener.onEvent(new KvEvent.BlockRemoved(hash));
        }
    }

    private void appendToFreeQueue(int id) {
        int tail = prevFree[numBlocks];
        prevFree[id] = tail;
        nextFree[id] = numBlocks;
        nextFree[tail] = id;
        prevFree[numBlocks] = id;
        numFreeBlocks++;
    }

    private void unlinkFromFreeQueue(int id) {
        int prev = prevFree[id];
        int next = nextFree[id];
        if (prev == NOT_QUEUED) {
            throw new IllegalStateException("block " + id + " is not in the free queue");
        }
        nextFree[prev] = next;
        prevFree[next] = prev;
        prevFree[id] = NOT_QUEUED;
        nextFree[id] = NOT_QUEUED;
        numFreeBlocks--;
    }

    private void checkId(int id) {
        if (id < 0 || id >= numBlocks) {
            throw new IndexOutOfBoundsException("block id " + id + " outside 0.." + (numBlocks - 1));
        }
    }

    @Override
    public String toString() {
        return "BlockPool[numBlocks=" + numBlocks + ", numFreeBlocks=" + numFreeBlocks
                + ", numCachedBlocks=" + cachedBlockIds.size() + ", prefixCaching=" + enablePrefixCaching + "]";
    }
}
