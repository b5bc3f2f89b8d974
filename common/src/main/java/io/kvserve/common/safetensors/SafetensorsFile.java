package io.kvserve.common.safetensors;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.io.MappedFiles;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A safetensors file, memory-mapped read-only.
 *
 * <pre>
 * offset 0      uint64 N, little-endian: header length in bytes
 *        8      N bytes of UTF-8 JSON (padded with spaces by the HF writer):
 *               { "__metadata__": {"format": "pt", ...string values},
 *                 "model.embed_tokens.weight": {"dtype": "BF16", "shape": [vocab, dim],
 *                                               "data_offsets": [begin, end]}, ... }
 *        8 + N  byte buffer; a tensor's bytes are [8 + N + begin, 8 + N + end), row-major, last
 *               dimension fastest (the reverse of ggml's ne order)
 * </pre>
 *
 * <p>Validation, before anything is allocated from a length read in the file: N at most
 * {@link #MAX_HEADER_BYTES} (the HF library's limit) and within the file; the JSON well-formed,
 * without duplicate keys; every tensor's dtype known, shape non-negative without overflow, offsets
 * in the buffer with {@code end - begin == numElements * elementBytes}, and no two tensors
 * overlapping. Unlike the HF library, gaps between tensors are allowed.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Largest header accepted, as the HF safetensors library (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Reserved header key for the string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    /** Set once the arena is closed, so a second {@link #close()} does nothing. */
    private final AtomicBoolean closed = new AtomicBoolean();
    private final MemorySegment file;
    private final long bufferStart;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsFile(Path path, Arena arena, MemorySegment file, long bufferStart, Map<String, String> metadata,
                            Map<String, SafetensorsTensor> tensors) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.bufferStart = bufferStart;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /**
     * Maps and validates {@code path}.
     *
     * @throws SafetensorsFormatException if the file is malformed
     */
    public static SafetensorsFile open(Path path) throws IOException {
        return MappedFiles.mapReadOnly(path, SafetensorsFile::parse);
    }

    private static SafetensorsFile parse(Path path, Arena arena, MemorySegment file) throws SafetensorsFormatException {
        long fileSize = file.byteSize();
        if (fileSize < 8) {
            throw new SafetensorsFormatException(path, "truncated: " + fileSize + " bytes, the header length alone needs 8");
        }
        long headerBytes = file.get(LONG_LE, 0);
        if (headerBytes < 0 || headerBytes > MAX_HEADER_BYTES || headerBytes > fileSize - 8) {
            throw new SafetensorsFormatException(path, "header length " + Long.toUnsignedString(headerBytes)
                    + " is impossible: the file has " + fileSize + " bytes and headers are limited to " + MAX_HEADER_BYTES);
        }
        byte[] headerUtf8 = new byte[(int) headerBytes];
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, 8, headerUtf8, 0, headerUtf8.length);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerUtf8, StandardCharsets.UTF_8));
        } catch (JacksonException e) {
            throw new SafetensorsFormatException(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new SafetensorsFormatException(path, "header is not a JSON object");
        }
        long bufferStart = 8 + headerBytes;
        long bufferBytes = fileSize - bufferStart;

        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : header.properties()) {
            String name = entry.getKey();
            JsonNode node = entry.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!node.isObject()) {
                    throw new SafetensorsFormatException(path, METADATA_KEY + " is not an object");
                }
                for (Map.Entry<String, JsonNode> m : node.properties()) {
                    if (!m.getValue().isString()) {
                        throw new SafetensorsFormatException(path, METADATA_KEY + " value '" + m.getKey() + "' is not a string");
                    }
                    metadata.put(m.getKey(), m.getValue().stringValue());
                }
                continue;
            }
            tensors.put(name, tensor(path, name, node, bufferBytes));
        }
        List<SafetensorsTensor> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(SafetensorsTensor::begin));
        SafetensorsTensor previous = null;
        for (SafetensorsTensor t : byOffset) {
            if (previous != null && t.numBytes() > 0 && t.begin() < previous.end()) {
                throw new SafetensorsFormatException(path, "tensor '" + t.name() + "' data_offsets [" + t.begin() + ", "
                        + t.end() + ") overlap tensor '" + previous.name() + "' [" + previous.begin() + ", " + previous.end() + ")");
            }
            if (t.numBytes() > 0) {
                previous = t;
            }
        }
        return new SafetensorsFile(path, arena, file, bufferStart, Collections.unmodifiableMap(metadata),
                Collections.unmodifiableMap(tensors));
    }

    private static SafetensorsTensor tensor(Path path, String name, JsonNode node, long bufferBytes)
            throws SafetensorsFormatException {
        String what = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafetensorsFormatException(path, what + " entry is not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isString()) {
            throw new SafetensorsFormatException(path, what + " has no string \"dtype\"");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromName(dtypeNode.stringValue())
                .orElseThrow(() -> new SafetensorsFormatException(path, what + " has unknown dtype "
                        + dtypeNode.stringValue() + "; known: " + Arrays.toString(SafetensorsDtype.values())));
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray() || shapeNode.size() > 16) {
            throw new SafetensorsFormatException(path, what + " has no \"shape\" array of at most 16 dims");
        }
        long[] shape = new long[shapeNode.size()];
        long numElements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw new SafetensorsFormatException(path, what + " shape " + shapeNode + " has an entry that is not a non-negative integer");
            }
            shape[i] = d.longValue();
            try {
                numElements = Math.multiplyExact(numElements, shape[i]);
            } catch (ArithmeticException e) {
                throw new SafetensorsFormatException(path, what + " shape " + shapeNode + " overflows int64 elements");
            }
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new SafetensorsFormatException(path, what + " has no \"data_offsets\" [begin, end] of integers");
        }
        long begin = offsets.get(0).longValue();
        long end = offsets.get(1).longValue();
        if (begin < 0 || end < begin || end > bufferBytes) {
            throw new SafetensorsFormatException(path, what + " data_offsets [" + begin + ", " + end
                    + "] are out of range: the data buffer has " + bufferBytes + " bytes");
        }
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(numElements, (long) dtype.elementBytes());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(path, what + " byte size overflows int64");
        }
        if (end - begin != expectedBytes) {
            throw new SafetensorsFormatException(path, what + " " + dtype + " " + Arrays.toString(shape) + " needs "
                    + expectedBytes + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new SafetensorsTensor(name, dtype, shape, begin, end, numElements);
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} strings, in header order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensors by name, in header order. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    /** The tensor named {@code name}, if present. */
    public Optional<SafetensorsTensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** Absolute file offset of the byte buffer. */
    public long bufferStart() {
        return bufferStart;
    }

    /** The tensor's bytes, a slice of the mapping (valid until {@link #close()}). */
    public MemorySegment data(SafetensorsTensor tensor) {
        requireOwn(tensor);
        return file.asSlice(bufferStart + tensor.begin(), tensor.numBytes());
    }

    /**
     * Converts row {@code rowIndex} (the last dimension's elements) to floats.
     *
     * @throws UnsupportedOperationException for dtypes other than F32, F16, BF16
     */
    public void readRow(SafetensorsTensor tensor, long rowIndex, float[] dst, int dstOffset) {
        requireOwn(tensor);
        Objects.checkIndex(rowIndex, tensor.numRows());
        int rowLength = Math.toIntExact(tensor.rowLength());
        GgmlQuants.dequantize(ggml(tensor), file,
                bufferStart + tensor.begin() + rowIndex * rowLength * tensor.dtype().elementBytes(), dst, dstOffset, rowLength);
    }

    /** The whole tensor as floats; for tests and small tensors. */
    public float[] toFloatArray(String name) {
        SafetensorsTensor t = tensor(name).orElseThrow(() -> new IllegalArgumentException(path + ": no tensor '" + name + "'"));
        if (t.numElements() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(path + ": tensor '" + name + "' has " + t.numElements()
                    + " elements, too many for one float[]; use readRow");
        }
        float[] out = new float[(int) t.numElements()];
        GgmlQuants.dequantize(ggml(t), file, bufferStart + t.begin(), out, 0, out.length);
        return out;
    }

    private io.kvserve.common.gguf.GgmlType ggml(SafetensorsTensor t) {
        return t.dtype().ggmlType().orElseThrow(() -> new UnsupportedOperationException(path + ": tensor '" + t.name()
                + "' has dtype " + t.dtype() + "; only F32, F16 and BF16 convert to float"));
    }

    private void requireOwn(SafetensorsTensor tensor) {
        if (!tensor.equals(tensors.get(tensor.name()))) {
            throw new IllegalArgumentException(path + ": tensor " + tensor + " is not from this file");
        }
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        MappedFiles.closeOnce(closed, arena);
    }
}
