package io.kvserve.scheduler.sim;

import java.util.Objects;

/**
 * One simulated request. Prompts are whole blocks of {@link #BLOCK_SIZE} tokens, each named by its
 * link in a tenant-salted hash chain ({@code h_b = H(h_{b-1}, content_b, salt_b)}), the way the engine
 * and kvshare name prefix-cache blocks.
 *
 * @param id               sequence number in the trace, 0-based
 * @param arrivalSeconds   arrival time in simulated seconds
 * @param tenantId         the tenant
 * @param blockHashes      the prompt's block-hash chain, one per 16-token block (the array is not copied: do not modify)
 * @param numOutputTokens  tokens to generate (at least 1)
 */
public record SimRequest(long id, double arrivalSeconds, String tenantId, long[] blockHashes, int numOutputTokens) {

    /** Tokens per KV block and per prefix-cache hash, as the engine's default. */
    public static final int BLOCK_SIZE = 16;

    public SimRequest {
        Objects.requireNonNull(tenantId, "tenantId");
        if (blockHashes.length == 0) {
            throw new IllegalArgumentException("request " + id + " has an empty prompt");
        }
        if (numOutputTokens < 1) {
            throw new IllegalArgumentException("request " + id + " numOutputTokens must be >= 1, got " + numOutputTokens);
        }
    }

    public int numPromptTokens() {
        return blockHashes.length * BLOCK_SIZE;
    }

    /** KV blocks the whole sequence (prompt and output) holds at its longest. */
    public int numBlocksNeeded() {
        return blockHashes.length + (numOutputTokens + BLOCK_SIZE - 1) / BLOCK_SIZE;
    }
}
