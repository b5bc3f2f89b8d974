package io.kvserve.common.safetensors;

import java.util.Arrays;

/**
 * One tensor entry of a safetensors header.
 *
 * @param name        tensor name
 * @param dtype       element type
 * @param shape       PyTorch order: the last dimension is the fastest varying (row length)
 * @param begin       start of the data, relative to the byte buffer after the header
 * @param end         end (exclusive), relative to the byte buffer
 * @param numElements product of shape (1 for a scalar)
 */
public record SafetensorsTensor(String name, SafetensorsDtype dtype, long[] shape, long begin, long end,
                                long numElements) {

    public SafetensorsTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Bytes of data. */
    public long numBytes() {
        return end - begin;
    }

    /** Row length: the last dimension, 1 for a scalar. */
    public long rowLength() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Number of rows of {@link #rowLength()} elements. */
    public long numRows() {
        return rowLength() == 0 ? 0 : numElements / rowLength();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SafetensorsTensor t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "SafetensorsTensor[" + name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")]";
    }
}
