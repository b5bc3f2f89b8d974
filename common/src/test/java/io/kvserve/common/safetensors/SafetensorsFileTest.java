package io.kvserve.common.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

    @TempDir
    Path dir;

    /** A file as the HF library lays it out: u64 header length, JSON, raw little-endian data. */
    static byte[] build(String headerJson, byte[] data) {
        byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length).put(json).put(data).array();
    }

    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] validSmall() {
        byte[] data = new byte[24 + 4];
        System.arraycopy(f32(1, 2, 3, 4, 5, 6), 0, data, 0, 24);
        ByteBuffer.wrap(data, 24, 4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort(Float.floatToFloat16(1.5f)).putShort((short) 0xC040); // f16 1.5, bf16 -3
        return build("""
                {"__metadata__":{"format":"pt"},
                 "w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},
                 "h":{"dtype":"F16","shape":[1],"data_offsets":[24,26]},
                 "b":{"dtype":"BF16","shape":[],"data_offsets":[26,28]}}""", data);
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void open_handBuiltFile_readsHeaderAndConvertsDtypes() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file("m.safetensors", validSmall()))) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.tensors().keySet()).containsExactly("w", "h", "b");
            SafetensorsTensor w = f.tensor("w").orElseThrow();
            assertThat(w.shape()).containsExactly(2, 3);
            assertThat(w.numRows()).isEqualTo(2);
            assertThat(f.toFloatArray("w")).containsExactly(1, 2, 3, 4, 5, 6);
            float[] row = new float[3];
            f.readRow(w, 1, row, 0);
            assertThat(row).containsExactly(4, 5, 6);
            assertThat(f.toFloatArray("h")).containsExactly(1.5f);
            assertThat(f.toFloatArray("b")).containsExactly(-3f);
            assertThat(f.data(w).get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 0);
        }
    }

    private void assertRejected(String name, byte[] bytes, String... parts) throws IOException {
        Path p = file(name, bytes);
        var a = assertThatThrownBy(() -> SafetensorsFile.open(p).close())
                .isInstanceOf(SafetensorsFormatException.class).hasMessageContaining(name);
        for (String part : parts) {
            a.hasMessageContaining(part);
        }
    }

    @Test
    void open_badInputs_areRejectedWithClearMessages() throws IOException {
        assertRejected("short.safetensors", new byte[5], "truncated");
        byte[] absurd = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array();
        assertRejected("absurd.safetensors", absurd, "header length 1099511627776 is impossible");
        byte[] negative = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array();
        assertRejected("neg.safetensors", negative, "header length 18446744073709551615");
        assertRejected("json.safetensors", build("{\"w\":{\"dtype\":", new byte[0]), "not valid JSON");
        assertRejected("array.safetensors", build("[1,2]", new byte[0]), "not a JSON object");
        assertRejected("trailing.safetensors", build("{} {}", new byte[0]), "not valid JSON");
        assertRejected("dupkey.safetensors",
                build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{}}", new byte[4]),
                "not valid JSON");
        assertRejected("dtype.safetensors",
                build("{\"w\":{\"dtype\":\"F7\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "unknown dtype F7");
        assertRejected("range.safetensors",
                build("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]),
                "tensor 'w' data_offsets [0, 16] are out of range: the data buffer has 8 bytes");
        assertRejected("size.safetensors",
                build("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]), "needs 12 bytes");
        assertRejected("overlap.safetensors",
                build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
                "tensor 'b'", "overlap tensor 'a'");
        assertRejected("shape.safetensors",
                build("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]),
                "not a non-negative integer");
        assertRejected("overflow.safetensors",
                build("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", new byte[4]),
                "overflows");
        assertRejected("meta.safetensors", build("{\"__metadata__\":{\"n\":1}}", new byte[0]), "is not a string");
        assertRejected("offsets.safetensors",
                build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]), "data_offsets");
    }

    @Test
    void toFloatArray_unsupportedDtype_namesIt() throws IOException {
        Path p = file("i64.safetensors", build("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.tensor("ids").orElseThrow().dtype()).isEqualTo(SafetensorsDtype.I64);
            assertThatThrownBy(() -> f.toFloatArray("ids")).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("dtype I64");
        }
    }

    @Test
    void open_randomCorruptionsAndTruncations_giveOnlyFormatException() throws IOException {
        byte[] valid = validSmall();
        Random random = new Random(99);
        for (int trial = 0; trial < 2000; trial++) {
            byte[] bytes = valid.clone();
            for (int f = 0, n = 1 + random.nextInt(3); f < n; f++) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(3) == 0) {
                bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
            }
            Path p = file("fuzz.safetensors", bytes);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (SafetensorsTensor t : f.tensors().values()) {
                    if (t.dtype().isSupported()) {
                        f.toFloatArray(t.name());
                    }
                }
            } catch (SafetensorsFormatException expected) {
                assertThat(expected.getMessage()).startsWith(p.toString());
            } catch (Throwable other) {
                throw new AssertionError("trial " + trial + " threw " + other, other);
            }
        }
    }

    @Test
    void writer_roundTrip_isBitExactAndPadsHeaderToEightBytes() throws IOException {
        float[] w = {1.1f, -2.2f, 3.3f, 4.4f, 5.5f, 6.6f};
        byte[] rawI64 = new byte[16];
        new Random(3).nextBytes(rawI64);
        SafetensorsWriter writer = new SafetensorsWriter().putMetadata("format", "pt");
        writer.addTensor("w32", SafetensorsDtype.F32, new long[] {2, 3}, w);
        writer.addTensor("w16", SafetensorsDtype.F16, new long[] {3, 2}, w);
        writer.addTensor("wbf", SafetensorsDtype.BF16, new long[] {6}, w);
        writer.addTensorBytes("ids", SafetensorsDtype.I64, new long[] {2}, rawI64);
        writer.addTensor("streamed", SafetensorsDtype.BF16, new long[] {4, 2, 8}, (row, out) -> Arrays.fill(out, row));
        Path p = dir.resolve("rt.safetensors");
        writer.write(p);
        byte[] bytes = Files.readAllBytes(p);
        long headerBytes = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerBytes % 8).isZero();
        assertThat(new String(bytes, 8, (int) headerBytes, StandardCharsets.UTF_8)).startsWith("{\"__metadata__\"");
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.tensors().keySet()).containsExactly("w32", "w16", "wbf", "ids", "streamed");
            assertThat(f.toFloatArray("w32")).containsExactly(w);
            float[] w16 = f.toFloatArray("w16");
            float[] wbf = f.toFloatArray("wbf");
            for (int i = 0; i < w.length; i++) {
                assertThat(w16[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(w[i])));
                assertThat(wbf[i]).isEqualTo(io.kvserve.common.gguf.GgmlQuants.bf16ToF32(
                        io.kvserve.common.gguf.GgmlQuants.f32ToBf16(w[i])));
            }
            assertThat(f.data(f.tensor("ids").orElseThrow()).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(rawI64);
            SafetensorsTensor s = f.tensor("streamed").orElseThrow();
            assertThat(s.numRows()).isEqualTo(8);
            float[] row = new float[8];
            f.readRow(s, 7, row, 0);
            assertThat(row).containsOnly(7f);
            // contiguous from 0, as the HF library requires
            assertThat(f.tensor("w32").orElseThrow().begin()).isZero();
            assertThat(f.tensor("streamed").orElseThrow().end()).isEqualTo(bytes.length - 8 - headerBytes);
        }
    }

    @Test
    void writer_invalidArguments_areRejected() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThatThrownBy(() -> w.addTensor("x", SafetensorsDtype.F32, new long[] {2}, new float[3]))
                .hasMessageContaining("holds 2 elements but 3");
        assertThatThrownBy(() -> w.addTensorBytes("x", SafetensorsDtype.F16, new long[] {2}, new byte[3]))
                .hasMessageContaining("needs 4 bytes, got 3");
        assertThatThrownBy(() -> w.addTensor("x", SafetensorsDtype.I8, new long[] {2}, new float[2]))
                .hasMessageContaining("cannot convert floats to I8");
        assertThatThrownBy(() -> w.addTensor("__metadata__", SafetensorsDtype.F32, new long[] {1}, new float[1]))
                .hasMessageContaining("reserved");
        w.addTensor("x", SafetensorsDtype.F32, new long[] {1}, new float[1]);
        assertThatThrownBy(() -> w.addTensor("x", SafetensorsDtype.F32, new long[] {1}, new float[1]))
                .hasMessageContaining("duplicate");
        assertThat(List.of(SafetensorsDtype.values())).contains(SafetensorsDtype.F8_E4M3);
    }

    @Test
    void close_calledTwice_secondIsNoOp(@TempDir Path tmp) throws IOException {
        Path p = tmp.resolve("twice.safetensors");
        new SafetensorsWriter().addTensor("a", SafetensorsDtype.F32, new long[] {2}, new float[] {1, 2}).write(p);
        SafetensorsFile f = SafetensorsFile.open(p);
        var data = f.data(f.tensor("a").orElseThrow());
        f.close();
        f.close();
        assertThatThrownBy(() -> data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
    }
}
