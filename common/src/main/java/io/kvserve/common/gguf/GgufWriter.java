package io.kvserve.common.gguf;

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

/**
 * Builds a GGUF v3 file: metadata in insertion order, then tensor infos, padding, and tensor data in
 * the order tensors were added, each at an offset aligned to {@code general.alignment} (32 unless
 * put as a UINT32).
 *
 * <p>Nothing is written until {@link #write(Path)}. Tensors given as a {@link RowSource} are
 * produced, quantized and written one chunk of rows at a time, so memory stays bounded by one row of
 * floats plus a ~1 MiB output buffer however large the model; tensors given as bytes are written
 * from the caller's array or segment (a segment may be a slice of another mapped file, which makes
 * re-packaging a model a streaming copy).
 *
 * <pre>{@code
 * GgufWriter w = new GgufWriter();
 * w.putString("general.architecture", "llama");
 * w.putUint32("llama.block_count", 16);
 * w.addTensor("token_embd.weight", GgmlType.Q8_0, new long[] {dim, vocabSize}, (row, out) -> fill(row, out));
 * w.write(Path.of("model.gguf"));
 * }</pre>
 */
public final class GgufWriter {

    private static final int CHUNK_BYTES = 1 << 20;

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    private sealed interface Payload permits RowsPayload, BytesPayload {
    }

    private record RowsPayload(RowSource rows) implements Payload {
    }

    private record BytesPayload(MemorySegment bytes) implements Payload {
    }

    private record PendingTensor(String name, long[] ne, GgmlType type, long numElements, long numBytes, Payload payload) {
    }

    // ------------------------------------------------------------------ metadata

    /** Puts a value with its exact type; replaces an earlier value of the same key in place. */
    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (key.equals(GgufFile.KEY_ALIGNMENT)) {
            if (value.type() != GgufValueType.UINT32) {
                throw new IllegalArgumentException(GgufFile.KEY_ALIGNMENT + " must be UINT32, got " + value.type());
            }
            long a = (Long) value.value();
            if (a == 0 || Long.bitCount(a) != 1 || a > (1 << 30)) {
                throw new IllegalArgumentException(GgufFile.KEY_ALIGNMENT + " must be a power of two, got " + a);
            }
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putUint8(String key, int value) {
        return put(key, new GgufValue(GgufValueType.UINT8, value));
    }

    public GgufWriter putInt8(String key, int value) {
        return put(key, new GgufValue(GgufValueType.INT8, value));
    }

    public GgufWriter putUint16(String key, int value) {
        return put(key, new GgufValue(GgufValueType.UINT16, value));
    }

    public GgufWriter putInt16(String key, int value) {
        return put(key, new GgufValue(GgufValueType.INT16, value));
    }

    public GgufWriter putUint32(String key, long value) {
        return put(key, new GgufValue(GgufValueType.UINT32, value));
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, new GgufValue(GgufValueType.INT32, value));
    }

    /** UINT64; {@code value} is taken as the unsigned 64-bit pattern. */
    public GgufWriter putUint64(String key, long value) {
        return put(key, new GgufValue(GgufValueType.UINT64, value));
    }

    public GgufWriter putInt64(String key, long value) {
        return put(key, new GgufValue(GgufValueType.INT64, value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, new GgufValue(GgufValueType.FLOAT32, value));
    }

    public GgufWriter putFloat64(String key, double value) {
        return put(key, new GgufValue(GgufValueType.FLOAT64, value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, new GgufValue(GgufValueType.BOOL, value));
    }

    public GgufWriter putString(String key, String value) {
        return put(key, new GgufValue(GgufValueType.STRING, value));
    }

    /** An array of any element type (elements as listed in {@link GgufValueType}). */
    public GgufWriter putArray(String key, GgufArray array) {
        return put(key, new GgufValue(GgufValueType.ARRAY, array));
    }

    public GgufWriter putStringArray(String key, List<String> values) {
        return putArray(key, new GgufArray(GgufValueType.STRING, List.copyOf(values)));
    }

    public GgufWriter putInt32Array(String key, int[] values) {
        List<Object> boxed = new ArrayList<>(values.length);
        for (int v : values) {
            boxed.add(v);
        }
        return putArray(key, new GgufArray(GgufValueType.INT32, boxed));
    }

    public GgufWriter putFloat32Array(String key, float[] values) {
        List<Object> boxed = new ArrayList<>(values.length);
        for (float v : values) {
            boxed.add(v);
        }
        return putArray(key, new GgufArray(GgufValueType.FLOAT32, boxed));
    }

    /** Copies every metadata value of {@code source}, types included, in its order. */
    public GgufWriter putAll(GgufFile source) {
        source.typedMetadata().forEach(this::put);
        return this;
    }

    // ------------------------------------------------------------------ tensors

    /**
     * Adds a tensor whose rows of {@code ne[0]} floats come from {@code rows} at write time and are
     * converted to {@code type}.
     *
     * @param ne shape in ggml order, 1..4 dims, ne[0] a multiple of type's block size
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] ne, RowSource rows) {
        if (!type.isSupported()) {
            throw new IllegalArgumentException("cannot quantize to " + type + "; add its bytes with addTensorBytes");
        }
        if (ne.length == 0 || ne[0] > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "' rows must be 1.." + (Integer.MAX_VALUE - 8)
                    + " elements, ne=" + Arrays.toString(ne));
        }
        add(name, type, ne, new RowsPayload(Objects.requireNonNull(rows, "rows")));
        return this;
    }

    /** Adds a tensor from floats held in memory (row-major in ggml order), converted to {@code type}. */
    public GgufWriter addTensor(String name, GgmlType type, long[] ne, float[] values) {
        long numElements = numElements(name, ne);
        if (numElements != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "' shape " + Arrays.toString(ne) + " holds "
                    + numElements + " elements but " + values.length + " values were given");
        }
        int rowLength = (int) ne[0];
        return addTensor(name, type, ne, (row, out) -> System.arraycopy(values, (int) (row * rowLength), out, 0, rowLength));
    }

    /** Adds a tensor whose bytes are already in {@code type}'s layout. */
    public GgufWriter addTensorBytes(String name, GgmlType type, long[] ne, byte[] bytes) {
        return addTensorBytes(name, type, ne, MemorySegment.ofArray(bytes));
    }

    /**
     * Adds a tensor whose bytes are already in {@code type}'s layout; the segment must stay readable
     * until {@link #write} returns.
     */
    public GgufWriter addTensorBytes(String name, GgmlType type, long[] ne, MemorySegment bytes) {
        add(name, type, ne, new BytesPayload(Objects.requireNonNull(bytes, "bytes")));
        return this;
    }

    private void add(String name, GgmlType type, long[] ne, Payload payload) {
        Objects.requireNonNull(name, "name");
        if (!type.hasKnownLayout()) {
            throw new IllegalArgumentException("ggml type " + type + " has no known block layout");
        }
        long numElements = numElements(name, ne);
        if (ne[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' row length ne0=" + ne[0]
                    + " is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        long numBytes = type.byteSize(numElements);
        if (payload instanceof BytesPayload(MemorySegment bytes) && bytes.byteSize() != numBytes) {
            throw new IllegalArgumentException("tensor '" + name + "' " + type + " " + Arrays.toString(ne) + " needs "
                    + numBytes + " bytes, got " + bytes.byteSize());
        }
        if (!tensorNames.add(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        tensors.add(new PendingTensor(name, ne.clone(), type, numElements, numBytes, payload));
    }

    private static long numElements(String name, long[] ne) {
        if (ne.length < 1 || ne.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' needs 1.." + GgufFile.MAX_DIMS + " dims, got "
                    + ne.length);
        }
        long n = 1;
        for (long d : ne) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: " + Arrays.toString(ne));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    // ------------------------------------------------------------------ write

    /** Alignment the file will use. */
    public int alignment() {
        GgufValue v = metadata.get(GgufFile.KEY_ALIGNMENT);
        return v == null ? GgufFile.DEFAULT_ALIGNMENT : (int) (long) (Long) v.value();
    }

    /**
     * Writes the file, replacing {@code path}. Row sources are called now, in tensor order.
     */
    public void write(Path path) throws IOException {
        int alignment = alignment();
        AtomicFiles.write(path, channel -> {
            Sink out = new Sink(channel);
            out.u32(GgufFile.MAGIC);
            out.u32(3);
            out.u64(tensors.size());
            out.u64(metadata.size());
            for (Map.Entry<String, GgufValue> kv : metadata.entrySet()) {
                out.string(kv.getKey());
                out.u32(kv.getValue().type().id());
                out.value(kv.getValue().type(), kv.getValue().value());
            }
            long offset = 0;
            for (PendingTensor t : tensors) {
                out.string(t.name());
                out.u32(t.ne().length);
                for (long d : t.ne()) {
                    out.u64(d);
                }
                out.u32(t.type().id());
                out.u64(offset);
                offset = GgufFile.alignUp(offset + t.numBytes(), alignment);
            }
            out.padTo(alignment);
            for (PendingTensor t : tensors) {
                out.padTo(alignment);
                switch (t.payload()) {
                    case BytesPayload(MemorySegment bytes) -> out.segment(bytes);
                    case RowsPayload(RowSource rows) -> writeRows(out, t, rows);
                }
                out.padTo(alignment); // ggml pads after every tensor, the last included
            }
            out.flush();
        });
    }

    private static void writeRows(Sink out, PendingTensor t, RowSource rows) throws IOException {
        int rowLength = (int) t.ne()[0];
        long numRows = rowLength == 0 ? 0 : t.numElements() / rowLength;
        int rowBytes = Math.toIntExact(t.type().byteSize(rowLength));
        float[] row = new float[rowLength]; // (ne0)
        byte[] encoded = new byte[rowBytes]; // one row in t.type's layout
        MemorySegment encodedSegment = MemorySegment.ofArray(encoded);
        for (long r = 0; r < numRows; r++) {
            rows.fillRow(r, row);
            GgmlQuants.quantize(t.type(), row, 0, rowLength, encodedSegment, 0);
            out.bytes(encoded, 0, rowBytes);
        }
    }

    /** Buffered little-endian output to a channel that tracks the absolute position. */
    private static final class Sink {
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private long position;

        Sink(FileChannel channel) {
            this.channel = channel;
        }

        private void ensure(int numBytes) throws IOException {
            if (buffer.remaining() < numBytes) {
                flush();
            }
        }

        void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }

        void u8(int v) throws IOException {
            ensure(1);
            buffer.put((byte) v);
            position += 1;
        }

        void u16(int v) throws IOException {
            ensure(2);
            buffer.putShort((short) v);
            position += 2;
        }

        void u32(long v) throws IOException {
            ensure(4);
            buffer.putInt((int) v);
            position += 4;
        }

        void u64(long v) throws IOException {
            ensure(8);
            buffer.putLong(v);
            position += 8;
        }

        void string(String s) throws IOException {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            u64(utf8.length);
            bytes(utf8, 0, utf8.length);
        }

        void bytes(byte[] b, int from, int length) throws IOException {
            int done = 0;
            while (done < length) {
                ensure(1);
                int n = Math.min(buffer.remaining(), length - done);
                buffer.put(b, from + done, n);
                done += n;
            }
            position += length;
        }

        void segment(MemorySegment s) throws IOException {
            long size = s.byteSize();
            long done = 0;
            while (done < size) {
                ensure(1);
                int n = (int) Math.min(buffer.remaining(), size - done);
                MemorySegment.copy(s, ValueLayout.JAVA_BYTE, done, buffer.array(), buffer.position(), n);
                buffer.position(buffer.position() + n);
                done += n;
            }
            position += size;
        }

        void padTo(int alignment) throws IOException {
            long target = GgufFile.alignUp(position, alignment);
            while (position < target) {
                u8(0);
            }
        }

        void value(GgufValueType type, Object v) throws IOException {
            switch (type) {
                case UINT8, INT8 -> u8((Integer) v);
                case UINT16, INT16 -> u16((Integer) v);
                case UINT32 -> u32((Long) v);
                case INT32 -> u32((Integer) v);
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v));
                case BOOL -> u8((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case UINT64, INT64 -> u64((Long) v);
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v));
                case ARRAY -> {
                    GgufArray a = (GgufArray) v;
                    u32(a.elementType().id());
                    u64(a.size());
                    for (Object e : a.elements()) {
                        value(a.elementType(), e);
                    }
                }
            }
        }
    }
}
