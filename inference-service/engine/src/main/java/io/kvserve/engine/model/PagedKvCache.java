package io.kvserve.engine.model;

import io.kvserve.common.model.ModelConfig;

/**
 * The KV cache's memory: for every layer, keys and values of {@code numBlocks * blockSize} token
 * slots. Which slots belong to which sequence is the block tables' business ({@code kv} package);
 * this class only stores.
 *
 * <pre>
 *   slot of position p in a sequence = blockTable[p / blockSize] * blockSize + p % blockSize
 *   block = slot / blockSize, o = slot % blockSize, e = kvHead * headDim + i  (e in 0..kvDim-1)
 *
 *   values[l]: (numBlocks, blockSize, kvDim)   value (slot, e) at slot * kvDim + e
 *   keys[l]:   (numBlocks, kvDim, blockSize)   key   (slot, e) at (block * kvDim + e) * blockSize + o
 *
 *   one block of keys, kv head h:   e = h*headDim + 0 | k(o=0) k(o=1) ... k(o=blockSize-1) |
 *                                   e = h*headDim + 1 | ...                                  |
 * </pre>
 * Keys are stored transposed inside each block: element e of the block's blockSize positions is
 * one contiguous run, so a query's scores for a whole block are one vector built by headDim
 * broadcast FMAs ({@code q[i] * keys[e = h*headDim + i][0..blockSize)}), with no sum across lanes per
 * position (vLLM's paged attention splits its key cache by position in a block the same way [1]).
 * A block's keys for one kv head are {@code headDim * blockSize} contiguous elements, as are its
 * values, so attention over a block reads two runs of memory.
 *
 * <p>F32 is stored in {@code float[]}, F16 as IEEE half bits in {@code short[]} (converted with
 * {@link Float#floatToFloat16} on write, {@link Float#float16ToFloat} on read). One array per layer
 * and per K/V keeps each under Java's 2^31 element limit for any cache that fits in memory:
 * {@code numSlots * kvDim} elements.
 *
 * <p>[1] vLLM, csrc/attention/attention_kernels.cuh: key cache
 * {@code [num_blocks, num_kv_heads, head_size/x, block_size, x]}.
 */
public final class PagedKvCache {

    private final int numLayers;
    private final int numBlocks;
    private final int blockSize;
    private final int kvDim;
    private final KvCacheDtype dtype;
    private final float[][] keysF32;   // (numLayers, numBlocks, kvDim, blockSize), null for F16
    private final float[][] valuesF32; // (numLayers, numBlocks, blockSize, kvDim), null for F16
    private final short[][] keysF16;   // (numLayers, numBlocks, kvDim, blockSize), null for F32
    private final short[][] valuesF16; // (numLayers, numBlocks, blockSize, kvDim), null for F32

    public PagedKvCache(ModelConfig config, int numBlocks, int blockSize, KvCacheDtype dtype) {
        this(config.numLayers(), config.kvDim(), numBlocks, blockSize, dtype);
    }

    /** A cache of {@code numLayers} layers of {@code kvDim} (numKvHeads * headDim) elements per slot. */
    public PagedKvCache(int numLayers, int kvDim, int numBlocks, int blockSize, KvCacheDtype dtype) {
        if (numLayers < 1 || kvDim < 1) {
            throw new IllegalArgumentException("numLayers " + numLayers + " and kvDim " + kvDim + " must be positive");
        }
        if (numBlocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("numBlocks " + numBlocks + " and blockSize " + blockSize + " must be positive");
        }
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvDim = kvDim;
        this.dtype = dtype;
        long perLayer = (long) numBlocks * blockSize * kvDim;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(numBlocks + " blocks of " + blockSize + " slots x kvDim " + kvDim + " = "
                    + perLayer + " elements per layer exceed a Java array; use at most "
                    + (Integer.MAX_VALUE - 8) / ((long) blockSize * kvDim) + " blocks");
        }
        int n = (int) perLayer;
        if (dtype == KvCacheDtype.F32) {
            keysF32 = new float[numLayers][n];
            valuesF32 = new float[numLayers][n];
            keysF16 = null;
            valuesF16 = null;
        } else {
            keysF16 = new short[numLayers][n];
            valuesF16 = new short[numLayers][n];
            keysF32 = null;
            valuesF32 = null;
        }
    }

    /** Bytes one block takes over all layers, keys and values. */
    public static long bytesPerBlock(ModelConfig config, int blockSize, KvCacheDtype dtype) {
        return 2L * config.numLayers() * blockSize * config.kvDim() * dtype.numBytes();
    }

    /** How many blocks fit in {@code budgetBytes} (at least 1 is not promised: may be 0). */
    public static int numBlocksFor(ModelConfig config, long budgetBytes, int blockSize, KvCacheDtype dtype) {
        return (int) Math.min(Integer.MAX_VALUE, budgetBytes / bytesPerBlock(config, blockSize, dtype));
    }

    public int numLayers() {
        return numLayers;
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int blockSize() {
        return blockSize;
    }

    /** numKvHeads * headDim: elements per slot per layer. */
    public int kvDim() {
        return kvDim;
    }

    public KvCacheDtype dtype() {
        return dtype;
    }

    /** Bytes of the whole cache. */
    public long numBytes() {
        return 2L * numLayers * numBlocks * blockSize * kvDim * dtype.numBytes();
    }

    /** Index of key element {@code e} (kvHead * headDim + i) of {@code slot} in a layer's key array. */
    public int keyIndex(int slot, int e) {
        int block = slot / blockSize;
        return (block * kvDim + e) * blockSize + slot - block * blockSize;
    }

    /** Stores one token's key and value rows (kvDim each) of layer {@code layer} in {@code slot}. */
    public void write(int layer, int slot, float[] k, int kOffset, float[] v, int vOffset) {
        int base = slot * kvDim;
        int keyBase = keyIndex(slot, 0);
        if (dtype == KvCacheDtype.F32) {
            float[] keys = keysF32[layer];
            for (int e = 0; e < kvDim; e++) {
                keys[keyBase + e * blockSize] = k[kOffset + e];
            }
            System.arraycopy(v, vOffset, valuesF32[layer], base, kvDim);
        } else {
            short[] keys = keysF16[layer];
            short[] values = valuesF16[layer];
            for (int e = 0; e < kvDim; e++) {
                keys[keyBase + e * blockSize] = Float.floatToFloat16(k[kOffset + e]);
                values[base + e] = Float.floatToFloat16(v[vOffset + e]);
            }
        }
    }

    /** Layer {@code layer}'s keys, (numBlocks, kvDim, blockSize); only for {@link KvCacheDtype#F32}. */
    public float[] keysF32(int layer) {
        return keysF32[layer];
    }

    /** Layer {@code layer}'s values, (numBlocks, blockSize, kvDim); only for {@link KvCacheDtype#F32}. */
    public float[] valuesF32(int layer) {
        return valuesF32[layer];
    }

    /** Layer {@code layer}'s keys as half bits, (numBlocks, kvDim, blockSize); only for {@link KvCacheDtype#F16}. */
    public short[] keysF16(int layer) {
        return keysF16[layer];
    }

    /** Layer {@code layer}'s values as half bits, (numBlocks, blockSize, kvDim); only for {@link KvCacheDtype#F16}. */
    public short[] valuesF16(int layer) {
        return valuesF16[layer];
    }
}
