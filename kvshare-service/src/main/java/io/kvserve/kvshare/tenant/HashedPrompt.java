package io.kvserve.kvshare.tenant;

import io.kvserve.common.kvcache.BlockHash;

import java.util.List;
import java.util.Objects;

/**
 * A tenant's prompt as the engine will name its KV blocks.
 *
 * @param chain              the hashes of the prompt's full blocks, block 0 first
 * @param numPublishedBlocks how many leading blocks are a published prefix (hashed under the
 *                           published salt, shared across tenants); the rest are tenant-salted
 * @param numTokens          the prompt's tokens, including a trailing partial block that has no hash
 */
public record HashedPrompt(List<BlockHash> chain, int numPublishedBlocks, int numTokens) {

    public HashedPrompt {
        chain = List.copyOf(Objects.requireNonNull(chain, "chain"));
        if (numPublishedBlocks < 0 || numPublishedBlocks > chain.size()) {
            throw new IllegalArgumentException("numPublishedBlocks " + numPublishedBlocks + " outside 0.."
                    + chain.size());
        }
        if (numTokens < 0) {
            throw new IllegalArgumentException("numTokens must be >= 0, got " + numTokens);
        }
    }

    /** The number of full blocks (hashes). */
    public int numBlocks() {
        return chain.size();
    }
}
