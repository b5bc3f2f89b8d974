package io.kvserve.scheduler.sim;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An instance's KV blocks as the simulator sees them: a prefix cache over block hashes with LRU
 * eviction, shaped like the engine's {@code BlockPool}.
 *
 * <p>Every cached block has a reference count: the running requests that use it. Blocks with count 0
 * stay cached (a later request with the same prefix hits them) but are evictable, oldest release
 * first; blocks in use are pinned. Output tokens take anonymous blocks (never cached: the next turn
 * of a chat hits on its previous prompt, not on the answer). A request takes all its blocks at
 * admission ({@link #allocate}) and gives them back when it finishes ({@link #release}), so the
 * simulator needs no preemption. A stored block counts as a hit only once its tokens are computed
 * ({@link #markComputed}), as the engine publishes a block only when it is full; a second request
 * that pins it before then computes the tokens again (the simulator keeps one copy of the block).
 *
 * <pre>
 *   capacity = pinned + evictable + anonymous + free
 *              \____ cached (map) ___/
 * </pre>
 *
 * A hit is the run of leading prompt blocks found in the map: the chain makes block b's hash depend
 * on blocks 0..b, so a block past the first miss cannot be reused even when its hash is present.
 */
public final class PrefixCache {

    private static final class Block {
        int refCount;
        /** Set once a request has computed the block's tokens: only then can another request hit it. */
        boolean computed;
    }

    private final long capacityBlocks;
    private final Map<Long, Block> cached = new HashMap<>();
    /** Cached blocks with refCount 0, least recently released first. */
    private final LinkedHashMap<Long, Block> evictable = new LinkedHashMap<>();
    private long numAnonymousBlocks;
    private long numEvictions;

    /** @param capacityBlocks KV blocks in all; {@link Long#MAX_VALUE} for an unbounded cache (the oracle) */
    public PrefixCache(long capacityBlocks) {
        if (capacityBlocks < 1) {
            throw new IllegalArgumentException("capacityBlocks must be >= 1, got " + capacityBlocks);
        }
        this.capacityBlocks = capacityBlocks;
    }

    public long capacityBlocks() {
        return capacityBlocks;
    }

    /** Leading blocks of {@code blockHashes} in the cache (pinned or evictable) and computed. */
    public int numLeadingHits(long[] blockHashes) {
        int n = 0;
        Block block;
        while (n < blockHashes.length && (block = cached.get(blockHashes[n])) != null && block.computed) {
            n++;
        }
        return n;
    }

    /** Called when a running request has computed this (pinned) block's tokens. */
    public void markComputed(long blockHash) {
        Block block = cached.get(blockHash);
        if (block == null || block.refCount == 0) {
            throw new IllegalStateException("markComputed of a block not pinned: " + Long.toHexString(blockHash));
        }
        block.computed = true;
    }

    public boolean contains(long blockHash) {
        return cached.containsKey(blockHash);
    }

    /** Blocks held by running requests (pinned cached blocks and anonymous ones). */
    public long numUsedBlocks() {
        return cached.size() - evictable.size() + numAnonymousBlocks;
    }

    public long numCachedBlocks() {
        return cached.size();
    }

    public long numEvictions() {
        return numEvictions;
    }

    /** Fraction of blocks held by running requests, 0..1 (as {@code vllm:kv_cache_usage_perc}). */
    public double usage() {
        return capacityBlocks == Long.MAX_VALUE ? 0.0 : (double) numUsedBlocks() / capacityBlocks;
    }

    /**
     * Pins the prompt's blocks (hits are reused, misses are stored, evicting the least recently
     * released blocks as needed) and takes {@code numAnonymous} more for the output.
     *
     * @return the leading hits in blocks, or -1 (nothing changed) when the blocks do not fit
     */
    public int allocate(long[] blockHashes, int numAnonymous) {
        int numHits = numLeadingHits(blockHashes);
        long numNew = numAnonymous;
        long numHitEvictable = 0;
        for (long hash : blockHashes) {
            Block block = cached.get(hash);
            if (block == null) {
                numNew++;
            } else if (block.refCount == 0) {
                numHitEvictable++;
            }
        }
        long numFree = capacityBlocks - cached.size() - numAnonymousBlocks;
        if (capacityBlocks != Long.MAX_VALUE && numFree + evictable.size() - numHitEvictable < numNew) {
            return -1;
        }
        for (long hash : blockHashes) {
            Block block = cached.get(hash);
            if (block != null) {
                if (block.refCount++ == 0) {
                    evictable.remove(hash);
                }
            }
        }
        for (long hash : blockHashes) {
            if (!cached.containsKey(hash)) {
                makeRoom();
                Block block = new Block();
                block.refCount = 1;
                cached.put(hash, block);
            }
        }
        for (int i = 0; i < numAnonymous; i++) {
            makeRoom();
            numAnonymousBlocks++;
        }
        return numHits;
    }

    /** Unpins what {@link #allocate} pinned; the prompt's blocks stay cached, most recent last to go. */
    public void release(long[] blockHashes, int numAnonymous) {
        for (long hash : blockHashes) {
            Block block = cached.get(hash);
            if (block == null || block.refCount <= 0) {
                throw new IllegalStateException("release of a block not pinned: " + Long.toHexString(hash));
            }
            if (--block.refCount == 0) {
                evictable.put(hash, block);
            }
        }
        numAnonymousBlocks -= numAnonymous;
        if (numAnonymousBlocks < 0) {
            throw new IllegalStateException("anonymous blocks released twice");
        }
    }

    private void makeRoom() {
        if (capacityBlocks == Long.MAX_VALUE || cached.size() + numAnonymousBlocks < capacityBlocks) {
            return;
        }
        var oldest = evictable.entrySet().iterator();
        Long victim = oldest.next().getKey();
        oldest.remove();
        cached.remove(victim);
        numEvictions++;
    }
}
