package io.kvserve.common.events;

import io.kvserve.common.kvcache.BlockHash;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One element of the {@code events} array of a {@link KvEventEntry}: what changed in one instance's
 * prefix cache. On the wire each is a JSON object with a {@code type}:
 * <pre>
 *   {"type":"stored","block_hashes":["&lt;32 hex&gt;",...],"parent_hash":"&lt;32 hex&gt;"|null,"block_size":16}
 *   {"type":"removed","block_hashes":["&lt;32 hex&gt;",...]}
 *   {"type":"cleared"}
 *   {"type":"reset"}
 * </pre>
 */
public sealed interface KvStreamEvent {

    /**
     * Blocks became reusable. The hashes form a chain: {@code blockHashes[0]}'s parent is
     * {@code parentHash} (empty for block 0 of a prompt), and each following hash's parent is the one
     * before it (vLLM batches its {@code BlockStored} the same way).
     *
     * @param blockHashes the chained block hashes, parent first; not empty
     * @param parentHash the parent of the first block; empty for block 0 of a chain
     * @param blockSize tokens per block
     */
    record Stored(List<BlockHash> blockHashes, Optional<BlockHash> parentHash, int blockSize) implements KvStreamEvent {
        public Stored {
            blockHashes = List.copyOf(blockHashes);
            Objects.requireNonNull(parentHash, "parentHash");
            if (blockHashes.isEmpty()) {
                throw new IllegalArgumentException("a stored event needs at least one block hash");
            }
            if (blockSize < 1) {
                throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
            }
        }
    }

    /**
     * Blocks were evicted: their hashes no longer hit on this instance.
     *
     * @param blockHashes the evicted hashes, in eviction order; not empty
     */
    record Removed(List<BlockHash> blockHashes) implements KvStreamEvent {
        public Removed {
            blockHashes = List.copyOf(blockHashes);
            if (blockHashes.isEmpty()) {
                throw new IllegalArgumentException("a removed event needs at least one block hash");
            }
        }
    }

    /** Every cached block of this instance was dropped (prefix-cache reset, or the start of a re-announce). */
    record Cleared() implements KvStreamEvent {
    }

    /**
     * The first event of every epoch (instance start): forget everything known about this instance,
     * whatever epoch it came from.
     */
    record Reset() implements KvStreamEvent {
    }
}
