package io.kvserve.common.safetensors;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.RowSource;
import io.kvserve.common.io.AtomicFiles;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds a safetensors file: header JSON ({@code __metadata__} first, then tensors in insertion
 * order), padded with spaces to a multiple of 8 bytes as the HF library does, then the tensors'
 * bytes back to back in the same order. Nothing is written until {@link #write(Path)}; tensors from
 * a {@link RowSource} are produced and converted one row at a time (a row is the last dimension).
 */
public final class SafetensorsWriter {

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    private record Pending(String name, SafetensorsDtype dtype, long[] shape, long numElements, long numBytes,
                           RowSource rows, MemorySegment bytes) {
    }

    /** Adds a {@code __metadata__} entry (e.g. {@code "format" -> "pt"}). */
    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
        return this;
    }

    /** Adds a tensor (PyTorch shape order) whose rows come from {@code rows}, converted to {@code dtype}. */
    public SafetensorsWriter addTensor(String name, SafetensorsDtype dtype, long[] shape, RowSource rows) {
        if (!dtype.isSupported()) {
            throw new IllegalArgumentException("cannot convert floats to " + dtype + "; add its bytes with addTensorBytes");
        }
        long rowLength = shape.length == 0 ? 1 : shape[shape.length - 1];
        if (rowLength > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "' rows of " + rowLength + " elements are too long");
        }
        add(name, dtype, shape, Objects.requireNonNull(rows), null);
        return this;
    }

    /** Adds a tensor from floats in memory (row-major, last dimension fastest). */
    public SafetensorsWriter addTensor(String name, SafetensorsDtype dtype, long[] shape, float[] values) {
        long n = numElements(name, shape);
        if (n != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "' shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but " + values.length + " values were given");
        }
        int rowLength = shape.length == 0 ? 1 : (int) shape[shape.length - 1];
        return addTensor(name, dtype, shape, (row, out) -> System.arraycopy(values, (int) (row * rowLength), out, 0, rowLength));
    }

    /** Adds a tensor whose bytes are already in {@code dtype}'s little-endian layout. */
    public SafetensorsWriter addTensorBytes(String name, SafetensorsDtype dtype, long[] shape, MemorySegment bytes) {
        add(name, dtype, shape, null, Objects.requireNonNull(bytes));
        return this;
    }

    /** As {@link #addTensorBytes(String, SafetensorsDtype, long[], MemorySegment)}. */
    public SafetensorsWriter addTensorBytes(String name, SafetensorsDtype dtype, long[] shape, byte[] bytes) {
        return addTensorBytes(name, dtype, shape, MemorySegment.ofArray(bytes));
    }

    private void add(String name, SafetensorsDtype dtype, long[] shape, RowSource rows, MemorySegment bytes) {
        Objects.requireNonNull(name, "name");
        if (name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new IllegalArgumentException(SafetensorsFile.METADATA_KEY + " is reserved");
        }
        long n = numElements(name, shape);
        long numBytes = Math.multiplyExact(n, (long) dtype.elementBytes());
        if (bytes != null && bytes.byteSize() != numBytes) {
            throw new IllegalArgumentException("tensor '" + name + "' " + dtype + " " + Arrays.toString(shape) + " needs "
                    + numBytes + " bytes, got " + bytes.byteSize());
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        tensors.add(new Pending(name, dtype, shape.clone(), n, numBytes, rows, bytes));
    }

    private static long numElements(String name, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The header JSON bytes, already padded with spaces to a multiple of 8. */
    byte[] header() {
        ObjectNode root = SafetensorsFile.JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Pending t : tensors) {
            ObjectNode entry = root.putObject(t.name());
            entry.put("dtype", t.dtype().name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            ArrayNode offsets = entry.putArray("data_offsets");
            offsets.add(offset);
            offsets.add(offset + t.numBytes());
            offset += t.numBytes();
        }
        byte[] json = SafetensorsFile.JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Writes the file, replacing {@code path}. */
    public void write(Path path) throws IOException {
        byte[] header = header();
        AtomicFiles.write(path, channel -> {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            buffer.putLong(header.length);
            put(channel, buffer, MemorySegment.ofArray(header));
            for (Pending t : tensors) {
                if (t.bytes() != null) {
                    put(channel, buffer, t.bytes());
                } else {
                    writeRows(channel, buffer, t);
                }
            }
            drain(channel, buffer);
        });
    }

    private static void writeRows(FileChannel channel, ByteBuffer buffer, Pending t) throws IOException {
        int rowLength = t.shape().length == 0 ? 1 : (int) t.shape()[t.shape().length - 1];
        long numRows = rowLength == 0 ? 0 : t.numElements() / rowLength;
        float[] row = new float[rowLength]; // (rowLength)
        byte[] encoded = new byte[rowLength * t.dtype().elementBytes()];
        MemorySegment encodedSegment = MemorySegment.ofArray(encoded);
        for (long r = 0; r < numRows; r++) {
            t.rows().fillRow(r, row);
            GgmlQuants.quantize(t.dtype().ggmlType().orElseThrow(), row, 0, rowLength, encodedSegment, 0);
            put(channel, buffer, encodedSegment);
        }
    }

    private static void put(FileChannel channel, ByteBuffer buffer, MemorySegment bytes) throws IOException {
        long done = 0;
        long size = bytes.byteSize();
        while (done < size) {
            if (!buffer.hasRemaining()) {
                drain(channel, buffer);
            }
            int n = (int) Math.min(buffer.remaining(), size - done);
            MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, done, buffer.array(), buffer.position(), n);
            buffer.position(buffer.position() + n);
            done += n;
        }
    }

    private static void drain(FileChannel channel, ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }
}
