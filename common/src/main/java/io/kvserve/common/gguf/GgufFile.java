package io.kvserve.common.gguf;

import io.kvserve.common.io.MappedFiles;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * A GGUF model file, memory-mapped read-only. Metadata and tensor infos are parsed and validated at
 * {@link #open}; tensor data stays in the mapping and is exposed as {@link MemorySegment} slices.
 *
 * <h2>File layout (GGUF v2/v3, little-endian) [1]</h2>
 * <pre>
 * offset 0   "GGUF" magic (0x47 0x47 0x55 0x46)
 *        4   uint32 version (2 or 3; v1 used 32-bit counts and is rejected)
 *        8   uint64 tensor_count
 *       16   uint64 metadata_kv_count
 *       24   metadata_kv_count x { string key, uint32 value_type, value }
 *            string = uint64 byte length + UTF-8 bytes (no terminator)
 *            array  = uint32 element_type + uint64 count + count x element (nested arrays allowed)
 *        .   tensor_count x { string name, uint32 n_dims, n_dims x uint64 ne, uint32 ggml_type,
 *                             uint64 offset (relative to the data section, multiple of alignment) }
 *        .   zero padding up to a multiple of general.alignment (uint32, default 32)
 *  dataStart tensor data; tensor t occupies [dataStart + t.offset, + t.numBytes)
 * </pre>
 *
 * <h2>Why the reader distrusts every number</h2>
 * A model file is input from outside: a truncated download or a hostile file must produce a
 * {@link GgufFormatException} naming the file and the problem, never an OutOfMemoryError or a
 * negative array size. So every count and length read from the file is checked against the bytes
 * that remain before anything is allocated: n strings need at least 8n bytes, n kv pairs at least
 * 13n, n tensor infos at least 24n, an array of n elements at least n times its element's minimum
 * size. Nesting depth of arrays is bounded. Tensor extents are checked for overflow, alignment,
 * end of file and overlap (after sorting by offset), names for uniqueness; llama.cpp additionally
 * insists tensors are packed in order, which this reader does not require.
 *
 * <p>The mapping uses a shared {@link Arena}, so segments may be read from any thread until
 * {@link #close()}, after which any access throws {@link IllegalStateException}. Files over 2 GiB
 * map as one segment.
 *
 * <p>References: [1] ggml docs/gguf.md; [2] ggml/src/gguf.cpp {@code gguf_init_from_file_impl}.
 */
public final class GgufFile implements AutoCloseable {

    /** The "GGUF" magic as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    /** Alignment when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    /** Key of the data alignment. */
    public static final String KEY_ALIGNMENT = "general.alignment";
    /** ggml's GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;
    private static final int MAX_ARRAY_NESTING = 8;
    /** Longest single metadata string (key, value, array element or tensor name) the reader decodes. */
    static final int MAX_STRING_BYTES = 64 << 20;
    private static final long MAX_METADATA_BUDGET_BYTES = 512L << 20;

    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble DOUBLE_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    /** Set once the arena is closed, so a second {@link #close()} does nothing. */
    private final AtomicBoolean closed = new AtomicBoolean();
    private final MemorySegment file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final int alignment;
    private final long dataStart;

    private GgufFile(Path path, Arena arena, MemorySegment file, int version, Map<String, GgufValue> metadata,
                     Map<String, GgufTensorInfo> tensors, int alignment, long dataStart) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataStart = dataStart;
    }

    /**
     * Maps and parses {@code path}.
     *
     * @throws GgufFormatException if the file is not a valid GGUF v2/v3 file
     * @throws IOException         if it cannot be read
     */
    public static GgufFile open(Path path) throws IOException {
        return open(path, metadataBudgetBytes(Runtime.getRuntime().maxMemory()));
    }

    /** As {@link #open(Path)} with an explicit budget for the decoded metadata's heap. */
    static GgufFile open(Path path, long metadataBudgetBytes) throws IOException {
        return MappedFiles.mapReadOnly(path, (p, arena, file) -> parse(p, arena, file, metadataBudgetBytes));
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment file, long metadataBudgetBytes)
            throws GgufFormatException {
        Reader in = new Reader(path, file, metadataBudgetBytes);
        in.need(4, "magic");
        int magic = in.u32AsInt();
        if (magic != MAGIC) {
            throw in.error(String.format("not a GGUF file: magic 0x%08x, expected 0x%08x (\"GGUF\")", magic, MAGIC));
        }
        in.need(4, "version");
        long version = in.u32();
        if (version == 1) {
            throw in.error("GGUF version 1 is not supported (its counts are 32-bit); re-convert the model with a current llama.cpp");
        }
        long swapped = Integer.toUnsignedLong(Integer.reverseBytes((int) version));
        if (swapped == 2 || swapped == 3) {
            throw in.error("big-endian GGUF (version " + swapped + ") is not supported; convert the model little-endian");
        }
        if (version != 2 && version != 3) {
            throw in.error("unsupported GGUF version " + version + "; supported: 2, 3");
        }
        in.need(16, "header counts");
        long numTensors = in.u64();
        in.checkCount(numTensors, 24, "tensor count");
        long numKvs = in.u64();
        in.checkCount(numKvs, 13, "metadata kv count");

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < numKvs; i++) {
            String key = in.string("key of metadata kv #" + i);
            GgufValueType type = in.valueType("metadata '" + key + "'");
            GgufValue value = new GgufValue(type, in.value(type, "metadata '" + key + "'", 0));
            if (metadata.putIfAbsent(key, value) != null) {
                throw in.error("duplicate metadata key '" + key + "'");
            }
        }

        int alignment = DEFAULT_ALIGNMENT;
        GgufValue alignValue = metadata.get(KEY_ALIGNMENT);
        if (alignValue != null) {
            if (alignValue.type() != GgufValueType.UINT32) {
                throw in.error(KEY_ALIGNMENT + " has type " + alignValue.type() + ", expected UINT32");
            }
            long a = (Long) alignValue.value();
            if (a == 0 || Long.bitCount(a) != 1 || a > (1 << 30)) {
                throw in.error(KEY_ALIGNMENT + " = " + a + " is not a power of two in 1..2^30");
            }
            alignment = (int) a;
        }

        List<GgufTensorInfo> infos = new ArrayList<>((int) Math.min(numTensors, 4096));
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (long i = 0; i < numTensors; i++) {
            String name = in.string("name of tensor #" + i);
            String what = "tensor '" + name + "'";
            in.need(4, what + " n_dims");
            long numDims = in.u32();
            if (numDims > MAX_DIMS) {
                throw in.error(what + " has " + numDims + " dimensions; at most " + MAX_DIMS + " are allowed");
            }
            in.need(8 * numDims + 4 + 8, what + " shape/type/offset");
            long[] ne = new long[(int) numDims];
            long numElements = 1;
            for (int d = 0; d < numDims; d++) {
                ne[d] = in.u64();
                if (ne[d] < 0) {
                    throw in.error(what + " dimension " + d + " is " + Long.toUnsignedString(ne[d]) + " (negative as int64)");
                }
                try {
                    numElements = Math.multiplyExact(numElements, ne[d]);
                } catch (ArithmeticException e) {
                    throw in.error(what + " element count overflows int64 (ne=" + java.util.Arrays.toString(ne) + ")");
                }
            }
            long typeId = in.u32();
            GgmlType type = GgmlType.fromId(typeId)
                    .orElseThrow(() -> in.error(what + " has unknown ggml type id " + typeId));
            if (!type.hasKnownLayout()) {
                throw in.error(what + " has ggml type " + type + " (id " + typeId + ") whose block layout this reader does not know");
            }
            long rowLength = numDims == 0 ? 1 : ne[0];
            if (rowLength % type.blockSize() != 0) {
                throw in.error(what + " row length ne0=" + rowLength + " is not a multiple of " + type
                        + "'s block size " + type.blockSize());
            }
            long numBytes;
            try {
                numBytes = type.byteSize(numElements);
            } catch (ArithmeticException e) {
                throw in.error(what + " byte size overflows int64");
            }
            long offset = in.u64();
            if (offset < 0 || offset % alignment != 0) {
                throw in.error(what + " data offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            }
            GgufTensorInfo info = new GgufTensorInfo(name, ne, type, offset, numElements, numBytes);
            if (byName.putIfAbsent(name, info) != null) {
                throw in.error("duplicate tensor name '" + name + "'");
            }
            infos.add(info);
        }

        long headerEnd = in.position();
        long dataStart = alignUp(headerEnd, alignment);
        long fileSize = file.byteSize();
        if (!infos.isEmpty() && dataStart > fileSize) {
            throw in.error("data section would start at " + dataStart + " (header ends at " + headerEnd
                    + ", alignment " + alignment + ") but the file has only " + fileSize + " bytes");
        }
        List<GgufTensorInfo> byOffset = new ArrayList<>(infos);
        byOffset.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        GgufTensorInfo previous = null;
        for (GgufTensorInfo t : byOffset) {
            long available = fileSize - dataStart;
            if (t.offset() > available || t.numBytes() > available - t.offset()) {
                throw in.error("tensor '" + t.name() + "' data [offset " + t.offset() + ", " + t.numBytes()
                        + " bytes] runs past end of file (" + fileSize + " bytes, data section starts at " + dataStart + ")");
            }
            if (previous != null && t.numBytes() > 0 && previous.offset() + previous.numBytes() > t.offset()) {
                throw in.error("tensor '" + t.name() + "' data [offset " + t.offset() + ", " + t.numBytes()
                        + " bytes] overlaps tensor '" + previous.name() + "' [offset " + previous.offset() + ", "
                        + previous.numBytes() + " bytes]");
            }
            if (t.numBytes() > 0) {
                previous = t;
            }
        }
        return new GgufFile(path, arena, file, (int) version, Collections.unmodifiableMap(metadata),
                Collections.unmodifiableMap(byName), alignment, dataStart);
    }

    /**
     * Heap the decoded metadata of one file may take: min(512 MiB, a quarter of the max heap). Real
     * models need tens of MiB (a 256k-token vocabulary with scores and types is about 20 MiB).
     */
    static long metadataBudgetBytes(long maxHeapBytes) {
        return Math.min(MAX_METADATA_BUDGET_BYTES, maxHeapBytes / 4);
    }

    static long alignUp(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    // ------------------------------------------------------------------ accessors

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** GGUF version, 2 or 3. */
    public int version() {
        return version;
    }

    /** Data alignment in bytes ({@code general.alignment} or 32). */
    public int alignment() {
        return alignment;
    }

    /** Absolute file offset of the data section. */
    public long dataStart() {
        return dataStart;
    }

    /** Size of the mapped file in bytes. */
    public long fileSizeBytes() {
        return file.byteSize();
    }

    /** Metadata values with their GGUF types, in file order. */
    public Map<String, GgufValue> typedMetadata() {
        return metadata;
    }

    /** Metadata values in file order, as the Java types listed in {@link GgufValueType}. */
    public Map<String, Object> metadata() {
        Map<String, Object> plain = new LinkedHashMap<>();
        metadata.forEach((k, v) -> plain.put(k, v.value()));
        return Collections.unmodifiableMap(plain);
    }

    /** The typed value of {@code key}, if present. */
    public Optional<GgufValue> value(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    /** A STRING value. Absent if missing or of another type. */
    public Optional<String> string(String key) {
        GgufValue v = metadata.get(key);
        return v != null && v.type() == GgufValueType.STRING ? Optional.of((String) v.value()) : Optional.empty();
    }

    /**
     * An integer value of any width, sign-extended (UINT64 values above Long.MAX_VALUE come back
     * negative). Absent if missing or not an integer.
     */
    public OptionalLong integer(String key) {
        GgufValue v = metadata.get(key);
        if (v == null || !v.type().isInteger()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(((Number) v.value()).longValue());
    }

    /** A FLOAT32 or FLOAT64 value. Absent if missing or of another type. */
    public OptionalDouble floating(String key) {
        GgufValue v = metadata.get(key);
        if (v == null || (v.type() != GgufValueType.FLOAT32 && v.type() != GgufValueType.FLOAT64)) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(((Number) v.value()).doubleValue());
    }

    /** A FLOAT32 (or FLOAT64, narrowed) value as float. */
    public Optional<Float> float32(String key) {
        OptionalDouble d = floating(key);
        return d.isPresent() ? Optional.of((float) d.getAsDouble()) : Optional.empty();
    }

    /** A BOOL value. */
    public Optional<Boolean> bool(String key) {
        GgufValue v = metadata.get(key);
        return v != null && v.type() == GgufValueType.BOOL ? Optional.of((Boolean) v.value()) : Optional.empty();
    }

    /** An array value, if present. */
    public Optional<GgufArray> array(String key) {
        GgufValue v = metadata.get(key);
        return v != null && v.type() == GgufValueType.ARRAY ? Optional.of((GgufArray) v.value()) : Optional.empty();
    }

    /** A STRING array, read-only, not copied; empty list if missing. @throws IllegalStateException if of another type */
    public List<String> stringArray(String key) {
        Optional<GgufArray> a = array(key);
        if (a.isEmpty()) {
            return List.of();
        }
        requireElementType(key, a.get(), GgufValueType.STRING);
        return a.get().strings();
    }

    /** A FLOAT32/FLOAT64 array as floats; empty if missing. @throws IllegalStateException if of another type */
    public float[] floatArray(String key) {
        Optional<GgufArray> a = array(key);
        if (a.isEmpty()) {
            return new float[0];
        }
        GgufArray array = a.get();
        GgufValueType t = array.elementType();
        if (t == GgufValueType.FLOAT32) {
            return array.float32Copy();
        }
        if (t != GgufValueType.FLOAT64) {
            requireElementType(key, array, GgufValueType.FLOAT32);
        }
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.getDouble(i);
        }
        return out;
    }

    /**
     * An integer array as ints; empty if missing.
     *
     * @throws IllegalStateException if not an integer array or a value does not fit an int
     */
    public int[] intArray(String key) {
        Optional<GgufArray> a = array(key);
        if (a.isEmpty()) {
            return new int[0];
        }
        GgufArray array = a.get();
        if (!array.elementType().isInteger()) {
            requireElementType(key, array, GgufValueType.INT32);
        }
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            long v = array.getLong(i);
            if (v != (int) v) {
                throw new IllegalStateException(path + ": metadata '" + key + "'[" + i + "] = "
                        + (array.elementType() == GgufValueType.UINT64 ? Long.toUnsignedString(v) : v)
                        + " does not fit an int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    private void requireElementType(String key, GgufArray a, GgufValueType expected) {
        if (a.elementType() != expected) {
            throw new IllegalStateException(path + ": metadata '" + key + "' is an array of " + a.elementType()
                    + ", expected " + expected);
        }
    }

    /** Tensor infos by name, in file order. */
    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    /** The tensor named {@code name}, if present. */
    public Optional<GgufTensorInfo> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The whole mapped file. */
    public MemorySegment segment() {
        return file;
    }

    /** The tensor's data, a slice of the mapping (valid until {@link #close()}). */
    public MemorySegment data(GgufTensorInfo tensor) {
        requireOwn(tensor);
        return file.asSlice(dataStart + tensor.offset(), tensor.numBytes());
    }

    /**
     * Dequantizes row {@code rowIndex} (ne0 elements) of {@code tensor} into {@code dst[dstOffset..]}.
     *
     * @throws UnsupportedOperationException if the tensor's type has no float conversion
     */
    public void dequantizeRow(GgufTensorInfo tensor, long rowIndex, float[] dst, int dstOffset) {
        requireOwn(tensor);
        java.util.Objects.checkIndex(rowIndex, tensor.numRows());
        int rowLength = Math.toIntExact(tensor.rowLength());
        GgmlQuants.dequantize(tensor.type(), file, dataStart + tensor.offset() + rowIndex * tensor.rowBytes(),
                dst, dstOffset, rowLength);
    }

    /**
     * The whole tensor as floats; for tests and small tensors.
     *
     * @throws IllegalArgumentException if the tensor is missing or has more than Integer.MAX_VALUE - 8 elements
     */
    public float[] dequantizeAll(String tensorName) {
        GgufTensorInfo t = tensor(tensorName)
                .orElseThrow(() -> new IllegalArgumentException(path + ": no tensor '" + tensorName + "'"));
        if (t.numElements() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(path + ": tensor '" + tensorName + "' has " + t.numElements()
                    + " elements, too many for one float[]; use dequantizeRow");
        }
        float[] out = new float[(int) t.numElements()];
        GgmlQuants.dequantize(t.type(), file, dataStart + t.offset(), out, 0, out.length);
        return out;
    }

    private void requireOwn(GgufTensorInfo tensor) {
        if (tensors.get(tensor.name()) != tensor && !tensor.equals(tensors.get(tensor.name()))) {
            throw new IllegalArgumentException(path + ": tensor " + tensor + " is not from this file");
        }
    }

    /** Unmaps the file; segments obtained from it become inaccessible. */
    @Override
    public void close() {
        MappedFiles.closeOnce(closed, arena);
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " kvs, " + tensors.size() + " tensors]";
    }

    // ------------------------------------------------------------------ bounds-checked cursor

    /** Sequential little-endian reads that check every length against the bytes left. */
    private static final class Reader {
        private final Path path;
        private final MemorySegment file;
        private final long metadataBudgetBytes;
        private long pos;
        private long decodedBytes;

        Reader(Path path, MemorySegment file, long metadataBudgetBytes) {
            this.path = path;
            this.file = file;
            this.metadataBudgetBytes = metadataBudgetBytes;
        }

        long position() {
            return pos;
        }

        long remaining() {
            return file.byteSize() - pos;
        }

        GgufFormatException error(String problem) {
            return new GgufFormatException(path, problem);
        }

        void need(long numBytes, String what) throws GgufFormatException {
            need(numBytes, what, "");
        }

        /** As {@link #need(long, String)}; {@code what + suffix} is only built for the error. */
        void need(long numBytes, String what, String suffix) throws GgufFormatException {
            if (numBytes < 0 || numBytes > remaining()) {
                throw error("truncated: " + what + suffix + " needs " + Long.toUnsignedString(numBytes)
                        + " bytes at offset " + pos + " but the file has " + file.byteSize() + " bytes");
            }
        }

        /** Rejects a count whose items, each at least minBytesEach long, cannot fit in what is left. */
        void checkCount(long count, long minBytesEach, String what) throws GgufFormatException {
            if (count < 0 || count > remaining() / minBytesEach) {
                throw error(what + " " + Long.toUnsignedString(count) + " at offset " + (pos - 8)
                        + " is impossible: the " + remaining() + " bytes left hold at most " + remaining() / minBytesEach);
            }
        }

        int u32AsInt() {
            int v = file.get(INT_LE, pos);
            pos += 4;
            return v;
        }

        long u32() {
            return Integer.toUnsignedLong(u32AsInt());
        }

        long u64() {
            long v = file.get(LONG_LE, pos);
            pos += 8;
            return v;
        }

        String string(String what) throws GgufFormatException {
            return string(what, -1);
        }

        /** A string; {@code index >= 0} names its position in an array, in errors only. */
        String string(String what, long index) throws GgufFormatException {
            need(8, what, index < 0 ? " length" : "[" + index + "] length");
            long length = u64();
            if (length < 0 || length > remaining() || length > Integer.MAX_VALUE - 8) {
                throw error(what + (index < 0 ? "" : "[" + index + "]") + ": string length "
                        + Long.toUnsignedString(length) + " at offset " + (pos - 8)
                        + " exceeds the " + remaining() + " bytes left");
            }
            if (length > MAX_STRING_BYTES) {
                throw error(what + (index < 0 ? "" : "[" + index + "]") + ": string length " + length + " at offset "
                        + (pos - 8) + " exceeds the limit of " + MAX_STRING_BYTES + " bytes for one metadata string");
            }
            // a String holds at most 2 bytes per UTF-8 byte, plus its header
            charge(48 + 2 * length, what);
            byte[] bytes = new byte[(int) length];
            MemorySegment.copy(file, ValueLayout.JAVA_BYTE, pos, bytes, 0, bytes.length);
            pos += length;
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                // llama.cpp vocabularies hold byte tokens that are not valid UTF-8 on their own; keep them lossy
                return new String(bytes, StandardCharsets.UTF_8);
            }
        }

        GgufValueType valueType(String what) throws GgufFormatException {
            return valueType(what, "");
        }

        GgufValueType valueType(String what, String suffix) throws GgufFormatException {
            need(4, what + suffix, " type");
            long id = u32();
            return GgufValueType.fromId(id).orElseThrow(() -> error(what + suffix + " has unknown value type " + id));
        }

        Object value(GgufValueType type, String what, int depth) throws GgufFormatException {
            need(type.minEncodedBytes(), what + " value");
            return switch (type) {
                case UINT8 -> (int) file.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
                case INT8 -> (int) file.get(ValueLayout.JAVA_BYTE, pos++);
                case UINT16 -> {
                    int v = file.get(SHORT_LE, pos) & 0xFFFF;
                    pos += 2;
                    yield v;
                }
                case INT16 -> {
                    int v = file.get(SHORT_LE, pos);
                    pos += 2;
                    yield v;
                }
                case UINT32 -> u32();
                case INT32 -> u32AsInt();
                case FLOAT32 -> Float.intBitsToFloat(u32AsInt());
                case BOOL -> {
                    byte b = file.get(ValueLayout.JAVA_BYTE, pos);
                    if (b != 0 && b != 1) {
                        throw error(what + ": bool byte " + b + " at offset " + pos + " is neither 0 nor 1");
                    }
                    pos++;
                    yield b == 1;
                }
                case STRING -> string(what);
                case UINT64, INT64 -> u64();
                case FLOAT64 -> Double.longBitsToDouble(u64());
                case ARRAY -> array(what, depth);
            };
        }

        private GgufArray array(String what, int depth) throws GgufFormatException {
            if (depth >= MAX_ARRAY_NESTING) {
                throw error(what + ": arrays nested deeper than " + MAX_ARRAY_NESTING + " at offset " + pos);
            }
            GgufValueType elementType = valueType(what, " array element");
            need(8, what, " array length");
            long count = u64();
            checkCount(count, elementType.minEncodedBytes(), what + " array length");
            if (count > Integer.MAX_VALUE - 8) {
                throw error(what + ": array length " + count + " exceeds what one Java array can hold");
            }
            int n = (int) count;
            charge(storageBytesEach(elementType) * count, what);
            long start = pos;
            Object storage = switch (elementType) {
                case UINT8, INT8 -> {
                    byte[] a = new byte[n];
                    MemorySegment.copy(file, ValueLayout.JAVA_BYTE, pos, a, 0, n);
                    yield a;
                }
                case UINT16, INT16 -> {
                    short[] a = new short[n];
                    MemorySegment.copy(file, SHORT_LE, pos, a, 0, n);
                    yield a;
                }
                case UINT32, INT32 -> {
                    int[] a = new int[n];
                    MemorySegment.copy(file, INT_LE, pos, a, 0, n);
                    yield a;
                }
                case UINT64, INT64 -> {
                    long[] a = new long[n];
                    MemorySegment.copy(file, LONG_LE, pos, a, 0, n);
                    yield a;
                }
                case FLOAT32 -> {
                    float[] a = new float[n];
                    MemorySegment.copy(file, FLOAT_LE, pos, a, 0, n);
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[n];
                    MemorySegment.copy(file, DOUBLE_LE, pos, a, 0, n);
                    yield a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        byte b = file.get(ValueLayout.JAVA_BYTE, pos + i);
                        if (b != 0 && b != 1) {
                            throw error(what + "[" + i + "]: bool byte " + b + " at offset " + (pos + i)
                                    + " is neither 0 nor 1");
                        }
                        a[i] = b == 1;
                    }
                    yield a;
                }
                case STRING -> {
                    String[] a = new String[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = string(what, i);
                    }
                    yield a;
                }
                case ARRAY -> {
                    GgufArray[] a = new GgufArray[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = array(what, depth + 1);
                    }
                    yield a;
                }
            };
            if (elementType != GgufValueType.STRING && elementType != GgufValueType.ARRAY) {
                pos = start + count * elementType.minEncodedBytes();
            }
            return GgufArray.wrap(elementType, storage);
        }

        /** Heap bytes one element of an array of {@code type} takes, before any string contents. */
        private static long storageBytesEach(GgufValueType type) {
            return switch (type) {
                case UINT8, INT8, BOOL -> 1;
                case STRING, ARRAY -> 8;
                default -> type.minEncodedBytes();
            };
        }

        /** Counts {@code numBytes} of decoded metadata against the budget; rejects what would pass it. */
        void charge(long numBytes, String what) throws GgufFormatException {
            if (numBytes > metadataBudgetBytes - decodedBytes) {
                throw error(what + ": decoding it would bring the metadata to " + (decodedBytes + numBytes)
                        + " bytes of heap, over the budget of " + metadataBudgetBytes
                        + " bytes (min(512 MiB, max heap / 4)); the file is damaged or hostile");
            }
            decodedBytes += numBytes;
        }
    }
}
