package io.kvserve.engine.kv;

import java.util.List;

/**
 * The leading blocks of a hash chain that the prefix cache holds.
 *
 * @param blockIds the cached blocks, block 0 first, one per matched hash
 * @param numTokens tokens they cover ({@code blockIds.size() * blockSize})
 */
public record PrefixHit(List<Integer> blockIds, int numTokens) {

    public PrefixHit {
        blockIds = List.copyOf(blockIds);
    }

    public int numBlocks() {
        return blockIds.size();
    }
}
