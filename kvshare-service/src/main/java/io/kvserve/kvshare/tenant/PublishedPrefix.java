package io.kvserve.kvshare.tenant;

import java.util.Arrays;
import java.util.Objects;

/**
 * A prefix an operator published as shared for one model: its full blocks are hashed under
 * {@link io.kvserve.common.kvcache.BlockHasher#publishedSalt()} and hit across tenants.
 *
 * @param model     the model it is published for
 * @param name      its name, unique per model
 * @param tokenIds  its token ids as published (a trailing partial block is kept but never matched)
 * @param numBlocks its full blocks: {@code tokenIds.length / blockSize}
 * @param createdMs when it was published, Unix epoch ms
 */
public record PublishedPrefix(String model, String name, int[] tokenIds, int numBlocks, long createdMs) {

    public PublishedPrefix {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(name, "name");
        tokenIds = tokenIds.clone();
    }

    /** A fresh copy of the token ids. */
    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** The number of token ids as published. */
    public int numTokens() {
        return tokenIds.length;
    }

    int tokenAt(int index) {
        return tokenIds[index];
    }

    int[] tokenIdsUnsafe() {
        return tokenIds;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PublishedPrefix p && model.equals(p.model) && name.equals(p.name)
                && Arrays.equals(tokenIds, p.tokenIds) && numBlocks == p.numBlocks && createdMs == p.createdMs;
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, name, Arrays.hashCode(tokenIds), numBlocks, createdMs);
    }

    @Override
    public String toString() {
        return "PublishedPrefix[" + model + "/" + name + ", " + tokenIds.length + " tokens, " + numBlocks
                + " blocks, createdMs=" + createdMs + "]";
    }
}
