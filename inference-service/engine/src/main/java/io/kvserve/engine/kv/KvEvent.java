package io.kvserve.engine.kv;

import io.kvserve.common.kvcache.BlockHash;
import java.util.Objects;
import java.util.Optional;

/**
 * What the prefix cache of one engine announces, in the order it happened: the inference service
 * publishes these to the Redis stream that kvshare folds into its index (the same three kinds as
 * vLLM's {@code BlockStored}/{@code BlockRemoved}/{@code AllBlocksCleared}).
 */
public sealed interface KvEvent {

    /**
     * A full block became reusable under {@code hash}.
     *
     * @param hash the block's chained hash
     * @param parentHash the previous block's hash, empty for block 0 of a chain
     * @param numTokens tokens in the block (the block size)
     */
    record BlockStored(BlockHash hash, Optional<BlockHash> parentHash, int numTokens) implements KvEvent {
        public BlockStored {
            Objects.requireNonNull(hash, "hash");
            Objects.requireNonNull(parentHash, "parentHash");
        }
    }

    /** The block cached under {@code hash} was evicted; the hash no longer hits on this engine. */
    record BlockRemoved(BlockHash hash) implements KvEvent {
        public BlockRemoved {
            Objects.requireNonNull(hash, "hash");
        }
    }

    /** Every cached hash was dropped (prefix-cache reset). */
    record AllCleared() implements KvEvent {
    }
}
