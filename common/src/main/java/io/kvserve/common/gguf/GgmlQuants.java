package io.kvserve.common.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Scalar reference kernels that convert between float and ggml's block layouts: F32, F16, BF16,
 * Q4_0, Q8_0, Q4_K, Q6_K. They are the control the fast kernels are tested against, so they favour
 * clarity over speed.
 *
 * <h2>Block layouts (little-endian, ggml-common.h)</h2>
 * <pre>
 * Q4_0 (32 elems, 18 B)  [d f16][qs 16 B]            x[j] = (lo(qs[j]) - 8) d, x[j+16] = (hi(qs[j]) - 8) d
 * Q8_0 (32 elems, 34 B)  [d f16][qs 32 x int8]       x[j] = qs[j] d
 * Q4_K (256 elems, 144 B)[d f16][dmin f16][scales 12 B][qs 128 B]
 *      8 sub-blocks of 32, each with a 6-bit scale sc and 6-bit min m packed in the 12 bytes:
 *        bytes 0..3 : sc0..3 (bits 0..5)  + high 2 bits of sc4..7 (bits 6..7)
 *        bytes 4..7 : m0..3  (bits 0..5)  + high 2 bits of m4..7  (bits 6..7)
 *        bytes 8..11: low 4 bits of sc4..7 (bits 0..3) + low 4 bits of m4..7 (bits 4..7)
 *      qs: 4 groups of 32 bytes; group g holds sub-block 2g in low nibbles, 2g+1 in high nibbles.
 *      x = d sc q - dmin m
 * Q6_K (256 elems, 210 B)[ql 128 B][qh 64 B][scales 16 x int8][d f16]
 *      two halves of 128 elements; in half h, for l in 0..31 the 6-bit values of elements
 *      l, l+32, l+64, l+96 are
 *        lo4: ql[64h+l] low, ql[64h+l+32] low, ql[64h+l] high, ql[64h+l+32] high
 *        hi2: bits 0-1, 2-3, 4-5, 6-7 of qh[32h+l]
 *      x = d scales[e / 16] (q - 32)
 * </pre>
 *
 * <p>The quantizers for the k-quants are straightforward (per-sub-block min/max or absmax, then
 * 6- or 8-bit scales rounded up so the grid covers the data), not llama.cpp's error-minimizing
 * search: the bytes are valid for llama.cpp, but the error is somewhat larger. Bounds, tested in
 * {@code GgmlQuantsTest}: Q8_0 |err| &lt;= amax/220 per block; Q4_0 &lt;= amax/8 per block; Q4_K
 * &lt;= range/16 per super-block; Q6_K &lt;= amax/50 per super-block (plus f16 rounding).
 *
 * <p>References: [1] ggml/src/ggml-common.h block structs; [2] ggml/src/ggml-quants.c
 * {@code dequantize_row_q4_K}, {@code dequantize_row_q6_K}, {@code get_scale_min_k4}.
 */
public final class GgmlQuants {

    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GgmlQuants() {
    }

    // ------------------------------------------------------------------ scalar conversions

    /** IEEE half bits to float. */
    public static float f16ToF32(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Float to IEEE half bits, round to nearest even. */
    public static short f32ToF16(float value) {
        return Float.floatToFloat16(value);
    }

    /** bfloat16 bits to float (exact). */
    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Float to bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
    public static short f32ToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    // ------------------------------------------------------------------ dequantize

    /**
     * Decodes {@code numElements} elements of {@code type} starting at {@code byteOffset} in
     * {@code src} (which must be a block boundary) into {@code dst[dstOffset..]}.
     *
     * @throws IllegalArgumentException if numElements is not a multiple of the block size
     * @throws UnsupportedOperationException if the type has no kernel here
     */
    public static void dequantize(GgmlType type, MemorySegment src, long byteOffset,
                                  float[] dst, int dstOffset, int numElements) {
        Objects.checkFromIndexSize(dstOffset, numElements, dst.length);
        checkWhole(type, numElements);
        Objects.checkFromIndexSize(byteOffset, type.byteSize(numElements), src.byteSize());
        int numBlocks = numElements / type.blockSize();
        long blockOffset = byteOffset;
        int out = dstOffset;
        switch (type) {
            case F32 -> {
                for (int i = 0; i < numElements; i++) {
                    dst[out + i] = src.get(FLOAT_LE, byteOffset + 4L * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < numElements; i++) {
                    dst[out + i] = f16ToF32(src.get(SHORT_LE, byteOffset + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < numElements; i++) {
                    dst[out + i] = bf16ToF32(src.get(SHORT_LE, byteOffset + 2L * i));
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < numBlocks; b++, blockOffset += 18, out += 32) {
                    dequantizeBlockQ4_0(src, blockOffset, dst, out);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < numBlocks; b++, blockOffset += 34, out += 32) {
                    float d = f16ToF32(src.get(SHORT_LE, blockOffset));
                    for (int j = 0; j < 32; j++) {
                        dst[out + j] = src.get(ValueLayout.JAVA_BYTE, blockOffset + 2 + j) * d;
                    }
                }
            }
            case Q4_K -> {
                byte[] scales = new byte[12]; // one block's packed 6-bit scales and mins
                for (int b = 0; b < numBlocks; b++, blockOffset += 144, out += 256) {
                    dequantizeBlockQ4_K(src, blockOffset, scales, dst, out);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < numBlocks; b++, blockOffset += 210, out += 256) {
                    dequantizeBlockQ6_K(src, blockOffset, dst, out);
                }
            }
            default -> throw unsupported(type);
        }
    }

    private static void dequantizeBlockQ4_0(MemorySegment src, long block, float[] dst, int out) {
        float d = f16ToF32(src.get(SHORT_LE, block));
        for (int j = 0; j < 16; j++) {
            int q = src.get(ValueLayout.JAVA_BYTE, block + 2 + j) & 0xFF;
            dst[out + j] = ((q & 0xF) - 8) * d;
            dst[out + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    private static void dequantizeBlockQ4_K(MemorySegment src, long block, byte[] scales, float[] dst, int out) {
        float d = f16ToF32(src.get(SHORT_LE, block));
        float dmin = f16ToF32(src.get(SHORT_LE, block + 2));
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, block + 4, scales, 0, 12);
        long qs = block + 16;
        for (int group = 0; group < 4; group++) {
            int subLo = 2 * group;
            int subHi = subLo + 1;
            float d1 = d * scaleK4(scales, subLo);
            float m1 = dmin * minK4(scales, subLo);
            float d2 = d * scaleK4(scales, subHi);
            float m2 = dmin * minK4(scales, subHi);
            for (int l = 0; l < 32; l++) {
                int q = src.get(ValueLayout.JAVA_BYTE, qs + 32L * group + l) & 0xFF;
                dst[out + 64 * group + l] = d1 * (q & 0xF) - m1;
                dst[out + 64 * group + 32 + l] = d2 * (q >>> 4) - m2;
            }
        }
    }

    /** 6-bit scale of Q4_K sub-block j (get_scale_min_k4's d). */
    static int scaleK4(byte[] q, int j) {
        if (j < 4) {
            return q[j] & 63;
        }
        return (q[j + 4] & 0xF) | (((q[j - 4] & 0xFF) >>> 6) << 4);
    }

    /** 6-bit min of Q4_K sub-block j (get_scale_min_k4's m). */
    static int minK4(byte[] q, int j) {
        if (j < 4) {
            return q[j + 4] & 63;
        }
        return ((q[j + 4] & 0xFF) >>> 4) | (((q[j] & 0xFF) >>> 6) << 4);
    }

    private static void dequantizeBlockQ6_K(MemorySegment src, long block, float[] dst, int out) {
        float d = f16ToF32(src.get(SHORT_LE, block + 208));
        for (int half = 0; half < 2; half++) {
            long ql = block + 64L * half;
            long qh = block + 128 + 32L * half;
            long sc = block + 192 + 8L * half;
            int base = out + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int ql0 = src.get(ValueLayout.JAVA_BYTE, ql + l) & 0xFF;
                int ql32 = src.get(ValueLayout.JAVA_BYTE, ql + l + 32) & 0xFF;
                int h = src.get(ValueLayout.JAVA_BYTE, qh + l) & 0xFF;
                int q1 = ((ql0 & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((ql32 & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((ql0 >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((ql32 >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                dst[base + l] = d * src.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                dst[base + l + 32] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                dst[base + l + 64] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                dst[base + l + 96] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }

    // ------------------------------------------------------------------ quantize

    /** Quantizes {@code src} (whole array) into a new byte array in {@code type}'s layout. */
    public static byte[] quantize(GgmlType type, float[] src) {
        byte[] out = new byte[Math.toIntExact(type.byteSize(src.length))];
        quantize(type, src, 0, src.length, MemorySegment.ofArray(out), 0);
        return out;
    }

    /**
     * Encodes {@code src[srcOffset..srcOffset+numElements)} as {@code type} into {@code dst} at
     * {@code byteOffset}, writing exactly {@code type.byteSize(numElements)} bytes.
     *
     * @throws IllegalArgumentException if numElements is not a multiple of the block size
     * @throws UnsupportedOperationException if the type has no kernel here
     */
    public static void quantize(GgmlType type, float[] src, int srcOffset, int numElements,
                                MemorySegment dst, long byteOffset) {
        Objects.checkFromIndexSize(srcOffset, numElements, src.length);
        checkWhole(type, numElements);
        Objects.checkFromIndexSize(byteOffset, type.byteSize(numElements), dst.byteSize());
        int numBlocks = numElements / type.blockSize();
        long blockOffset = byteOffset;
        int in = srcOffset;
        switch (type) {
            case F32 -> {
                for (int i = 0; i < numElements; i++) {
                    dst.set(FLOAT_LE, byteOffset + 4L * i, src[in + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < numElements; i++) {
                    dst.set(SHORT_LE, byteOffset + 2L * i, f32ToF16(src[in + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < numElements; i++) {
                    dst.set(SHORT_LE, byteOffset + 2L * i, f32ToBf16(src[in + i]));
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < numBlocks; b++, blockOffset += 18, in += 32) {
                    quantizeBlockQ4_0(src, in, dst, blockOffset);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < numBlocks; b++, blockOffset += 34, in += 32) {
                    quantizeBlockQ8_0(src, in, dst, blockOffset);
                }
            }
            case Q4_K -> {
                KQuantScratch scratch = new KQuantScratch();
                for (int b = 0; b < numBlocks; b++, blockOffset += 144, in += 256) {
                    quantizeBlockQ4_K(src, in, dst, blockOffset, scratch);
                }
            }
            case Q6_K -> {
                KQuantScratch scratch = new KQuantScratch();
                for (int b = 0; b < numBlocks; b++, blockOffset += 210, in += 256) {
                    quantizeBlockQ6_K(src, in, dst, blockOffset, scratch);
                }
            }
            default -> throw unsupported(type);
        }
    }

    /** As ggml's reference: d = (signed value of largest magnitude) / -8, q = clamp(x/d + 8.5). */
    private static void quantizeBlockQ4_0(float[] x, int in, MemorySegment dst, long block) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[in + j];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.set(SHORT_LE, block, f32ToF16(d));
        for (int j = 0; j < 16; j++) {
            int q0 = Math.min(15, (int) (x[in + j] * id + 8.5f));
            int q1 = Math.min(15, (int) (x[in + j + 16] * id + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, block + 2 + j, (byte) (q0 | (q1 << 4)));
        }
    }

    /** As ggml's reference: d = amax / 127, q = round(x / d). */
    private static void quantizeBlockQ8_0(float[] x, int in, MemorySegment dst, long block) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[in + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.set(SHORT_LE, block, f32ToF16(d));
        for (int j = 0; j < 32; j++) {
            dst.set(ValueLayout.JAVA_BYTE, block + 2 + j, (byte) Math.round(x[in + j] * id));
        }
    }

    /**
     * Per-call work arrays of the K-quant quantizers, reused for every super-block so that
     * quantizing a large tensor allocates nothing per block. Every element is written before it
     * is read in each block.
     */
    private static final class KQuantScratch {
        final float[] subScales = new float[16]; // (numSubBlocks): Q4_K 8, Q6_K 16
        final float[] subMins = new float[8]; // (numSubBlocks): Q4_K -min, >= 0
        final int[] subScaleLevels = new int[16]; // (numSubBlocks): Q4_K 6-bit scales, Q6_K int8 scales
        final int[] subMinLevels = new int[8]; // (numSubBlocks): Q4_K 6-bit mins
        final byte[] packedScales = new byte[12]; // Q4_K scales and mins packed as get_scale_min_k4 unpacks
        final int[] levels = new int[256]; // (QK_K): Q4_K 0..15, Q6_K q + 32 in 0..63
    }

    /**
     * Per sub-block of 32: min (clamped to &lt;= 0) and max give scale = (max - min) / 15. The
     * super-block scales are d = max(scale) / 63 and dmin = max(-min) / 63; the 6-bit sub-block
     * scale is rounded up (so 15 steps still span the range) and the 6-bit min to nearest.
     */
    private static void quantizeBlockQ4_K(float[] x, int in, MemorySegment dst, long block, KQuantScratch scratch) {
        float[] subScales = scratch.subScales; // (max - min) / 15 for the 8 sub-blocks
        float[] subMins = scratch.subMins;
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float min = 0;
            float max = -Float.MAX_VALUE;
            for (int l = 0; l < 32; l++) {
                float v = x[in + 32 * j + l];
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            subScales[j] = Math.max(0, (max - min) / 15);
            subMins[j] = -min;
            maxScale = Math.max(maxScale, subScales[j]);
            maxMin = Math.max(maxMin, subMins[j]);
        }
        short dBits = f32ToF16(maxScale / 63);
        short dminBits = f32ToF16(maxMin / 63);
        float d = f16ToF32(dBits);
        float dmin = f16ToF32(dminBits);
        int[] ls = scratch.subScaleLevels;
        int[] lm = scratch.subMinLevels;
        for (int j = 0; j < 8; j++) {
            ls[j] = d > 0 ? Math.clamp((int) Math.ceil(subScales[j] / d), 0, 63) : 0;
            lm[j] = dmin > 0 ? Math.clamp(Math.round(subMins[j] / dmin), 0, 63) : 0;
        }
        byte[] scales = scratch.packedScales; // [0..8) set by j < 4, then OR-ed by j >= 4; [8..12) set by j >= 4
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                scales[j] = (byte) ls[j];
                scales[j + 4] = (byte) lm[j];
            } else {
                scales[j + 4] = (byte) ((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                scales[j - 4] |= (byte) ((ls[j] >>> 4) << 6);
                scales[j] |= (byte) ((lm[j] >>> 4) << 6);
            }
        }
        dst.set(SHORT_LE, block, dBits);
        dst.set(SHORT_LE, block + 2, dminBits);
        MemorySegment.copy(scales, 0, dst, ValueLayout.JAVA_BYTE, block + 4, 12);
        int[] q = scratch.levels; // 4-bit levels 0..15
        for (int j = 0; j < 8; j++) {
            float dl = d * ls[j];
            float ml = dmin * lm[j];
            for (int l = 0; l < 32; l++) {
                int i = 32 * j + l;
                q[i] = dl > 0 ? Math.clamp(Math.round((x[in + i] + ml) / dl), 0, 15) : 0;
            }
        }
        for (int group = 0; group < 4; group++) {
            for (int l = 0; l < 32; l++) {
                int lo = q[64 * group + l];
                int hi = q[64 * group + 32 + l];
                dst.set(ValueLayout.JAVA_BYTE, block + 16 + 32L * group + l, (byte) (lo | (hi << 4)));
            }
        }
    }

    /**
     * Per sub-block of 16: scale = amax / 31 (so q stays in -31..31); super-block d = max(scale) /
     * 127; the int8 sub-block scale is rounded up.
     */
    private static void quantizeBlockQ6_K(float[] x, int in, MemorySegment dst, long block, KQuantScratch scratch) {
        float[] subScales = scratch.subScales; // amax / 31 for the 16 sub-blocks
        float maxScale = 0;
        for (int j = 0; j < 16; j++) {
            float amax = 0;
            for (int l = 0; l < 16; l++) {
                amax = Math.max(amax, Math.abs(x[in + 16 * j + l]));
            }
            subScales[j] = amax / 31;
            maxScale = Math.max(maxScale, subScales[j]);
        }
        short dBits = f32ToF16(maxScale / 127);
        float d = f16ToF32(dBits);
        int[] sc = scratch.subScaleLevels; // int8 scales 0..127
        for (int j = 0; j < 16; j++) {
            sc[j] = d > 0 ? Math.clamp((int) Math.ceil(subScales[j] / d), 0, 127) : 0;
        }
        int[] levels = scratch.levels; // q + 32, in 0..63
        for (int i = 0; i < 256; i++) {
            float dl = d * sc[i / 16];
            int q = dl > 0 ? Math.clamp(Math.round(x[in + i] / dl), -32, 31) : 0;
            levels[i] = q + 32;
        }
        for (int half = 0; half < 2; half++) {
            int n = 128 * half;
            for (int l = 0; l < 32; l++) {
                int l0 = levels[n + l];
                int l1 = levels[n + l + 32];
                int l2 = levels[n + l + 64];
                int l3 = levels[n + l + 96];
                dst.set(ValueLayout.JAVA_BYTE, block + 64L * half + l, (byte) ((l0 & 0xF) | ((l2 & 0xF) << 4)));
                dst.set(ValueLayout.JAVA_BYTE, block + 64L * half + l + 32, (byte) ((l1 & 0xF) | ((l3 & 0xF) << 4)));
                dst.set(ValueLayout.JAVA_BYTE, block + 128 + 32L * half + l,
                        (byte) ((l0 >>> 4) | ((l1 >>> 4) << 2) | ((l2 >>> 4) << 4) | ((l3 >>> 4) << 6)));
            }
        }
        for (int j = 0; j < 16; j++) {
            dst.set(ValueLayout.JAVA_BYTE, block + 192 + j, (byte) sc[j]);
        }
        dst.set(SHORT_LE, block + 208, dBits);
    }

    private static void checkWhole(GgmlType type, int numElements) {
        if (!type.isSupported()) {
            throw unsupported(type);
        }
        if (numElements % type.blockSize() != 0) {
            throw new IllegalArgumentException(numElements + " elements is not a multiple of "
                    + type + "'s block size " + type.blockSize());
        }
    }

    private static UnsupportedOperationException unsupported(GgmlType type) {
        return new UnsupportedOperationException("no float conversion for ggml type " + type
                + " (id " + type.id() + "); supported: F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q6_K");
    }
}
