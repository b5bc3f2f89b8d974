package io.kvserve.cuda;

import io.kvserve.engine.model.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * A weight matrix in the layout the kernels read (kvserve_kernels.h, "weights"): float and half
 * types as ggml stores them, quantized types split into a dense array of quants and one of scales,
 * so a warp's 128-bit loads of a row are aligned (a ggml Q8_0 block is 34 bytes: its quants never
 * are). The values are the file's, bit for bit: nothing is dequantized or requantized.
 *
 * <pre>
 *   ggml Q8_0 row:  | d0 (f16) q0..q31 (i8) | d1 q32..q63 | ...        34 bytes per 32 values
 *   packed:         values: q0 q1 ... q(cols-1)            (rows, cols) int8
 *                   scales: d0 d1 ... d(cols/32-1)          (rows, cols/32) f16
 *   ggml Q4_0 row:  | d0 (f16) 16 bytes: lo nibble = value j, hi nibble = value j+16 | ...   18 bytes per 32
 *   packed:         values: the 16-byte runs back to back   (rows, cols/2) uint8
 *                   scales: as Q8_0
 * </pre>
 *
 * @param type    the kernels' weight type
 * @param rows    output features
 * @param cols    input features, a multiple of 32
 * @param values  (rows, cols) elements of {@code type}, or the quants of a quantized type
 * @param scales  (rows, cols / 32) f16 scales of a quantized type; null otherwise
 */
public record PackedMatrix(KernelWeightType type, int rows, int cols, MemorySegment values, MemorySegment scales) {

    public PackedMatrix {
        if (cols % 32 != 0) {
            throw new IllegalArgumentException("cols " + cols + " must be a multiple of 32");
        }
        if (values.byteSize() != type.valueBytes(rows, cols)) {
            throw new IllegalArgumentException("values hold " + values.byteSize() + " bytes, (" + rows + ", " + cols + ") "
                    + type + " needs " + type.valueBytes(rows, cols));
        }
        if (type.quantized() != (scales != null)
                || (scales != null && scales.byteSize() != (long) rows * (cols / 32) * Short.BYTES)) {
            throw new IllegalArgumentException(type + " scales do not fit (" + rows + ", " + cols + ")");
        }
    }

    /**
     * {@code w} in the kernels' layout: a view of its bytes for F32, F16 and BF16, repacked quants and
     * scales (fresh off-heap memory) for Q8_0 and Q4_0.
     *
     * @throws IllegalArgumentException for a type the kernels do not read (the K-quants), or rows not
     *                                  a multiple of 32 values
     */
    public static PackedMatrix of(WeightMatrix w) {
        KernelWeightType type = KernelWeightType.of(w.type());
        int rows = w.numRows();
        int cols = w.rowLength();
        if (cols % 32 != 0) {
            throw new IllegalArgumentException("a row of " + cols + " values: the CUDA kernels need a multiple of 32");
        }
        if (!type.quantized()) {
            return new PackedMatrix(type, rows, cols, w.data(), null);
        }
        int numBlocks = cols / 32;
        int quantBytes = type == KernelWeightType.Q8_0 ? 32 : 16;
        int blockBytes = Math.toIntExact(w.type().byteSize(32));
        MemorySegment values = Arena.ofAuto().allocate(type.valueBytes(rows, cols), 16);
        MemorySegment scales = Arena.ofAuto().allocate((long) rows * numBlocks * Short.BYTES, 16);
        MemorySegment src = w.data();
        long rowBytes = w.rowBytes();
        for (long r = 0; r < rows; r++) {
            for (int b = 0; b < numBlocks; b++) {
                long block = r * rowBytes + (long) b * blockBytes;
                long index = r * numBlocks + b;
                scales.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index, src.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
                MemorySegment.copy(src, block + Short.BYTES, values, index * quantBytes, quantBytes);
            }
        }
        return new PackedMatrix(type, rows, cols, values, scales);
    }

    /** Value (r, c) as the kernels compute it, in float; for tests and reference checks. */
    public float value(int r, int c) {
        long i = (long) r * cols + c;
        return switch (type) {
            case F32 -> values.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            case F16 -> Float.float16ToFloat(values.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
            case BF16 -> Float.intBitsToFloat(values.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) << 16);
            case Q8_0 -> values.get(ValueLayout.JAVA_BYTE, i) * scale(r, c);
            case Q4_0 -> {
                int block = c / 32;
                int j = c % 32;
                byte packed = values.get(ValueLayout.JAVA_BYTE, ((long) r * cols + block * 32L) / 2 + j % 16);
                int nibble = j < 16 ? packed & 0x0F : (packed >> 4) & 0x0F;
                yield (nibble - 8) * scale(r, c);
            }
        };
    }

    private float scale(int r, int c) {
        return Float.float16ToFloat(scales.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, (long) r * (cols / 32) + c / 32));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "PackedMatrix[%s (%d, %d)]", type, rows, cols);
    }
}
