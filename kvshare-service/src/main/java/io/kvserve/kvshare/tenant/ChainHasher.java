package io.kvserve.kvshare.tenant;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.kvcache.BlockHasher;

import java.util.List;
import java.util.Objects;

/**
 * Turns a tenant's prompt token ids into the block-hash chain its engine computes: the tenant's salt
 * from {@link TenantSalts}, the leading published blocks from {@link PublishedPrefixes}, and
 * {@link BlockHasher#hashChain(byte[], int[], int, int)} over them. The salt never leaves this call.
 *
 * <p>Thread-safe; blocking where its two collaborators are (a salt's first use, a prefix refresh).
 */
public final class ChainHasher {

    private final TenantSalts salts;
    private final PublishedPrefixes publishedPrefixes;
    private final BlockHasher hasher;

    /** A hasher for the block size of {@code publishedPrefixes}. */
    public ChainHasher(TenantSalts salts, PublishedPrefixes publishedPrefixes) {
        this.salts = Objects.requireNonNull(salts, "salts");
        this.publishedPrefixes = Objects.requireNonNull(publishedPrefixes, "publishedPrefixes");
        this.hasher = new BlockHasher(publishedPrefixes.blockSize());
    }

    /** Tokens per block. */
    public int blockSize() {
        return hasher.blockSize();
    }

    /**
     * The chain of {@code promptTokenIds} for {@code tenantId} on {@code model}; creates the tenant's
     * salt if it has none.
     */
    public HashedPrompt hash(String model, String tenantId, int[] promptTokenIds) {
        Objects.requireNonNull(promptTokenIds, "promptTokenIds");
        return hashWithSalt(model, salts.saltOf(tenantId), promptTokenIds);
    }

    /**
     * The chain of {@code promptTokenIds} on {@code model} under a tenant salt the caller already
     * holds (the scheduler, which also hands the salt to the instance): the same published-prefix
     * match and namespaces as {@link #hash}, which is this with the tenant's salt.
     */
    public HashedPrompt hashWithSalt(String model, byte[] tenantSalt, int[] promptTokenIds) {
        Objects.requireNonNull(tenantSalt, "tenantSalt");
        Objects.requireNonNull(promptTokenIds, "promptTokenIds");
        int numPublishedBlocks = publishedPrefixes.numPublishedBlocks(model, promptTokenIds);
        List<BlockHash> chain = hasher.hashChain(tenantSalt, promptTokenIds, promptTokenIds.length, numPublishedBlocks);
        return new HashedPrompt(chain, numPublishedBlocks, promptTokenIds.length);
    }

    /**
     * A chain given as hex strings (a caller that hashed the prompt itself), each 32 hex digits, either
     * case, as {@link BlockHash#toHex()} prints them.
     *
     * @throws IllegalArgumentException naming the index of the first hash that is null, not 32
     *                                  characters or not hex
     */
    public static List<BlockHash> parseHexChain(List<String> hexHashes) {
        Objects.requireNonNull(hexHashes, "hexHashes");
        BlockHash[] chain = new BlockHash[hexHashes.size()];
        int i = 0;
        for (String hex : hexHashes) {
            if (hex == null) {
                throw new IllegalArgumentException("block hash [" + i + "] is null");
            }
            if (hex.length() != 2 * BlockHash.NUM_BYTES) {
                throw new IllegalArgumentException("block hash [" + i + "] has " + hex.length()
                        + " characters, a block hash is " + 2 * BlockHash.NUM_BYTES + " hex digits");
            }
            for (int k = 0; k < hex.length(); k++) {
                if (!isHexDigit(hex.charAt(k))) {
                    throw new IllegalArgumentException("block hash [" + i + "] has the non-hex character "
                            + describe(hex.charAt(k)) + " at position " + k);
                }
            }
            chain[i++] = BlockHash.fromHex(hex);
        }
        return List.of(chain);
    }

    private static boolean isHexDigit(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static String describe(char c) {
        String code = String.format("U+%04X", (int) c);
        return Character.isISOControl(c) || Character.isWhitespace(c) ? code : "'" + c + "' (" + code + ")";
    }

    @Override
    public String toString() {
        return "ChainHasher[" + hasher + "]";
    }
}
