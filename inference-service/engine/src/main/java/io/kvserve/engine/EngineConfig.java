package io.kvserve.engine;

import io.kvserve.engine.model.KvCacheDtype;
import java.util.Objects;

/**
 * The engine's limits, vLLM's names where the concept is the same
 * ({@code kvserve.engine.max-num-batched-tokens}, ...). Cross-field checks here; checks against the
 * model (context length, block bytes) in {@link LlmEngine}'s constructor.
 *
 * @param maxNumBatchedTokens most new tokens per step over all sequences (the token budget); default 256
 * @param maxNumSeqs          most sequences running at once; default 16; at most maxNumBatchedTokens
 * @param blockSize           tokens per KV block (and per prefix-cache hash); default 16
 * @param kvCacheBytes        memory for the KV cache, used when numKvBlocks is 0; default 256 MiB
 * @param numKvBlocks         KV blocks, overriding kvCacheBytes when positive; default 0
 * @param kvCacheDtype        element type of the KV cache; default F32
 * @param enablePrefixCaching reuse the KV of full blocks across requests with the same prefix; default true
 * @param maxModelLen         most tokens (prompt plus output) per sequence; 0 (default) takes the
 *                            model's context length
 * @param maxNumWaiting       most requests queued and not yet scheduled; more are refused with
 *                            {@link QueueFullException}; default 1024
 * @param agingSeconds        waiting time worth a whole prompt of prefix hits in the waiting-queue
 *                            order (see {@code StallFreeScheduler}); default 10
 */
public record EngineConfig(int maxNumBatchedTokens, int maxNumSeqs, int blockSize, long kvCacheBytes, int numKvBlocks,
                           KvCacheDtype kvCacheDtype, boolean enablePrefixCaching, int maxModelLen, int maxNumWaiting,
                           double agingSeconds) {

    public EngineConfig {
        Objects.requireNonNull(kvCacheDtype, "kvCacheDtype");
        if (maxNumBatchedTokens < 1) {
            throw new IllegalArgumentException("maxNumBatchedTokens must be >= 1, got " + maxNumBatchedTokens);
        }
        if (maxNumSeqs < 1) {
            throw new IllegalArgumentException("maxNumSeqs must be >= 1, got " + maxNumSeqs);
        }
        if (maxNumBatchedTokens < maxNumSeqs) {
            throw new IllegalArgumentException("maxNumBatchedTokens " + maxNumBatchedTokens + " < maxNumSeqs "
                    + maxNumSeqs + ": a step could not decode every running sequence; raise maxNumBatchedTokens to "
                    + maxNumSeqs + " or lower maxNumSeqs to " + maxNumBatchedTokens);
        }
        if (blockSize < 1 || blockSize > 1024) {
            throw new IllegalArgumentException("blockSize must be in 1..1024 (16 is vLLM's and kvshare's), got "
                    + blockSize);
        }
        if (numKvBlocks < 0 || kvCacheBytes < 0 || (numKvBlocks == 0 && kvCacheBytes == 0)) {
            throw new IllegalArgumentException("set numKvBlocks > 0 or kvCacheBytes > 0, got numKvBlocks "
                    + numKvBlocks + " and kvCacheBytes " + kvCacheBytes);
        }
        if (maxModelLen < 0 || maxModelLen == 1) {
            throw new IllegalArgumentException("maxModelLen must be 0 (the model's context length) or >= 2, got "
                    + maxModelLen);
        }
        if (maxNumWaiting < 1) {
            throw new IllegalArgumentException("maxNumWaiting must be >= 1, got " + maxNumWaiting);
        }
        if (!(agingSeconds > 0) || Double.isInfinite(agingSeconds)) {
            throw new IllegalArgumentException("agingSeconds must be positive and finite, got " + agingSeconds);
        }
    }

    /** The defaults listed above. */
    public static EngineConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from the defaults. */
    public static final class Builder {
        private int maxNumBatchedTokens = 256;
        private int maxNumSeqs = 16;
        private int blockSize = 16;
        private long kvCacheBytes = 256L << 20;
        private int numKvBlocks;
        private KvCacheDtype kvCacheDtype = KvCacheDtype.F32;
        private boolean enablePrefixCaching = true;
        private int maxModelLen;
        private int maxNumWaiting = 1024;
        private double agingSeconds = 10;

        private Builder() {
        }

        public Builder maxNumBatchedTokens(int value) { maxNumBatchedTokens = value; return this; }
        public Builder maxNumSeqs(int value) { maxNumSeqs = value; return this; }
        public Builder blockSize(int value) { blockSize = value; return this; }
        public Builder kvCacheBytes(long value) { kvCacheBytes = value; return this; }
        public Builder numKvBlocks(int value) { numKvBlocks = value; return this; }
        public Builder kvCacheDtype(KvCacheDtype value) { kvCacheDtype = value; return this; }
        public Builder enablePrefixCaching(boolean value) { enablePrefixCaching = value; return this; }
        public Builder maxModelLen(int value) { maxModelLen = value; return this; }
        public Builder maxNumWaiting(int value) { maxNumWaiting = value; return this; }
        public Builder agingSeconds(double value) { agingSeconds = value; return this; }

        public EngineConfig build() {
            return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, blockSize, kvCacheBytes, numKvBlocks, kvCacheDtype,
                    enablePrefixCaching, maxModelLen, maxNumWaiting, agingSeconds);
        }
    }
}
