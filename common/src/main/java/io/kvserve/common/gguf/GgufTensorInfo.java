package io.kvserve.common.gguf;

import java.util.Arrays;

/**
 * A tensor's entry in a GGUF file's tensor-info table.
 *
 * @param name        tensor name, unique in the file
 * @param ne          shape in ggml order: {@code ne[0]} is the row length (fastest varying); 0..4 dims
 * @param type        element type
 * @param offset      byte offset of the data relative to the start of the data section
 * @param numElements product of {@code ne} (1 for zero dims)
 * @param numBytes    bytes of data, {@code numElements / blockSize * typeSize}
 */
public record GgufTensorInfo(String name, long[] ne, GgmlType type, long offset, long numElements, long numBytes) {

    public GgufTensorInfo {
        ne = ne.clone();
    }

    /** The shape, ggml order (a copy). */
    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** Number of dimensions. */
    public int numDims() {
        return ne.length;
    }

    /** Length of a row: {@code ne[0]}, or 1 for a scalar. */
    public long rowLength() {
        return ne.length == 0 ? 1 : ne[0];
    }

    /** Number of rows of {@link #rowLength()} elements. */
    public long numRows() {
        return rowLength() == 0 ? 0 : numElements / rowLength();
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.byteSize(rowLength());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(ne, t.ne) && type == t.type
                && offset == t.offset && numElements == t.numElements && numBytes == t.numBytes;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(ne);
    }

    @Override
    public String toString() {
        return "GgufTensorInfo[" + name + " " + type + " ne=" + Arrays.toString(ne) + " offset=" + offset
                + " bytes=" + numBytes + "]";
    }
}
