package io.kvserve.engine.model;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufTensorInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A 2-D weight in ggml block layout, viewed in place: row {@code r} is the {@link #rowBytes()}
 * bytes at {@code r * rowBytes()} of {@link #data()}. Kernels decode blocks as they read them; no
 * code path dequantizes a whole matrix.
 *
 * @param type      element type of every row
 * @param numRows   rows (output features; ggml's {@code ne[1]})
 * @param rowLength elements per row (input features; ggml's {@code ne[0]}), a multiple of the
 *                  type's block size
 * @param data      (numRows, rowBytes) bytes, little-endian ggml blocks; a slice of the mapped file
 *                  for GGUF weights
 */
public record WeightMatrix(GgmlType type, int numRows, int rowLength, MemorySegment data) {

    public WeightMatrix {
        if (type == null || data == null) {
            throw new IllegalArgumentException("type and data are required");
        }
        if (!type.isSupported()) {
            throw new IllegalArgumentException("weight type " + type + " has no kernel; supported: F32, F16, BF16,"
                    + " Q8_0, Q4_0, Q4_K, Q6_K");
        }
        if (numRows <= 0 || rowLength <= 0 || rowLength % type.blockSize() != 0) {
            throw new IllegalArgumentException("shape (" + numRows + ", " + rowLength + ") is not valid for " + type
                    + ": both must be positive and rowLength a multiple of " + type.blockSize());
        }
        long expected = type.byteSize(rowLength) * numRows;
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("data has " + data.byteSize() + " bytes, (" + numRows + ", "
                    + rowLength + ") " + type + " needs " + expected);
        }
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.byteSize(rowLength);
    }

    /** The weight {@code tensor} of {@code file}, over the mapped bytes (no copy). */
    public static WeightMatrix of(GgufFile file, GgufTensorInfo tensor) {
        if (tensor.numDims() > 2) {
            throw new IllegalArgumentException(tensor.name() + " has " + tensor.numDims() + " dims, a weight matrix 1 or 2");
        }
        return new WeightMatrix(tensor.type(), Math.toIntExact(tensor.numRows()),
                Math.toIntExact(tensor.rowLength()), file.data(tensor));
    }

    /**
     * Quantizes {@code values} (numRows, rowLength) as {@code type} into fresh off-heap memory
     * (64-byte aligned, like a mapped file's pages); for tests and benchmarks.
     */
    public static WeightMatrix quantize(GgmlType type, int numRows, int rowLength, float[] values) {
        if ((long) numRows * rowLength != values.length) {
            throw new IllegalArgumentException(values.length + " values for shape (" + numRows + ", " + rowLength + ")");
        }
        MemorySegment data = Arena.ofAuto().allocate(type.byteSize(rowLength) * numRows, 64);
        GgmlQuants.quantize(type, values, 0, values.length, data, 0);
        return new WeightMatrix(type, numRows, rowLength, data);
    }
}
