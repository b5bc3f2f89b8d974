package io.kvserve.common.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GgufWriterTest {

    @TempDir
    Path dir;

    private static GgufWriter everyMetadataKind() {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putUint8("u8", 255).putInt8("i8", -128).putUint16("u16", 65535).putInt16("i16", -32768);
        w.putUint32("u32", 0xFFFF_FFFFL).putInt32("i32", Integer.MIN_VALUE);
        w.putUint64("u64", -1L).putInt64("i64", Long.MIN_VALUE);
        w.putFloat32("f32", -0.0f).putFloat64("f64", Math.PI).putBool("yes", true).putBool("no", false);
        w.putString("utf8", "héllo ✓ 😀");
        w.putStringArray("tokens", List.of("<s>", "</s>", "", "▁the"));
        w.putInt32Array("types", new int[] {1, 3, 3, 6});
        w.putFloat32Array("scores", new float[] {0f, -1.5f, Float.NEGATIVE_INFINITY});
        w.putArray("u8s", new GgufArray(GgufValueType.UINT8, List.of(0, 7, 255)));
        w.putArray("bools", new GgufArray(GgufValueType.BOOL, List.of(true, false)));
        w.putArray("f64s", new GgufArray(GgufValueType.FLOAT64, List.of(1e300, -2.0)));
        w.putArray("nested", new GgufArray(GgufValueType.ARRAY, List.of(
                new GgufArray(GgufValueType.INT64, List.of(1L, -2L)),
                new GgufArray(GgufValueType.STRING, List.of("x")))));
        return w;
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 32, 64, 4096})
    void write_everyTypeAndMetadataKind_readsBackBitExactly(int alignment) throws IOException {
        GgufWriter w = everyMetadataKind();
        if (alignment != 0) {
            w.putUint32("general.alignment", alignment);
        }
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K,
                GgmlType.Q6_K};
        List<float[]> inputs = new ArrayList<>();
        for (GgmlType t : types) {
            float[] x = random(512 * 3, t.ordinal());
            inputs.add(x);
            w.addTensor("t." + t, t, new long[] {512, 3}, x);
        }
        byte[] q5k = new byte[176 * 2];
        new Random(5).nextBytes(q5k);
        w.addTensorBytes("raw.q5k", GgmlType.Q5_K, new long[] {256, 1, 2, 1}, q5k);
        w.addTensorBytes("raw.f32", GgmlType.F32, new long[] {3}, GgmlQuants.quantize(GgmlType.F32, new float[] {1, 2, 3}));
        Path p = dir.resolve("all.gguf");
        w.write(p);

        try (GgufFile g = GgufFile.open(p)) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.alignment()).isEqualTo(alignment == 0 ? 32 : alignment);
            GgufWriter expectedMeta = everyMetadataKind();
            // typed metadata equal, in insertion order
            List<String> expectedKeys = new ArrayList<>(List.of("general.architecture", "u8", "i8", "u16", "i16", "u32",
                    "i32", "u64", "i64", "f32", "f64", "yes", "no", "utf8", "tokens", "types", "scores", "u8s", "bools",
                    "f64s", "nested"));
            if (alignment != 0) {
                expectedKeys.add("general.alignment");
            }
            assertThat(g.typedMetadata().keySet()).containsExactlyElementsOf(expectedKeys);
            assertThat(g.typedMetadata().get("u64")).isEqualTo(new GgufValue(GgufValueType.UINT64, -1L));
            assertThat(Float.floatToRawIntBits((Float) g.metadata().get("f32"))).isEqualTo(0x8000_0000);
            assertThat(g.string("utf8")).contains("héllo ✓ 😀");
            assertThat(g.stringArray("tokens")).containsExactly("<s>", "</s>", "", "▁the");
            assertThat(g.intArray("types")).containsExactly(1, 3, 3, 6);
            assertThat(g.floatArray("scores")).containsExactly(0f, -1.5f, Float.NEGATIVE_INFINITY);
            assertThat(g.array("nested").orElseThrow().elements()).hasSize(2);

            for (int i = 0; i < types.length; i++) {
                GgmlType t = types[i];
                GgufTensorInfo info = g.tensor("t." + t).orElseThrow();
                assertThat(info.type()).isEqualTo(t);
                assertThat(info.ne()).containsExactly(512, 3);
                assertThat(info.offset() % g.alignment()).isZero();
                byte[] expectedBytes = GgmlQuants.quantize(t, inputs.get(i));
                assertThat(g.data(info).toArray(ValueLayout.JAVA_BYTE)).as("%s bytes", t).isEqualTo(expectedBytes);
                float[] expectedValues = new float[inputs.get(i).length];
                GgmlQuants.dequantize(t, MemorySegment.ofArray(expectedBytes), 0, expectedValues, 0, expectedValues.length);
                assertThat(g.dequantizeAll("t." + t)).containsExactly(expectedValues);
            }
            assertThat(g.data(g.tensor("raw.q5k").orElseThrow()).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(q5k);
            assertThat(g.tensor("raw.q5k").orElseThrow().ne()).containsExactly(256, 1, 2, 1);
            assertThat(g.dequantizeAll("raw.f32")).containsExactly(1, 2, 3);
            assertThat(Files.size(p) % g.alignment()).isZero();

            // re-writing from the reader reproduces the file byte for byte
            GgufWriter copy = new GgufWriter().putAll(g);
            for (GgufTensorInfo t : g.tensors().values()) {
                copy.addTensorBytes(t.name(), t.type(), t.ne(), g.data(t));
            }
            Path p2 = dir.resolve("copy.gguf");
            copy.write(p2);
            assertThat(Files.readAllBytes(p2)).isEqualTo(Files.readAllBytes(p));
        }
    }

    @Test
    void write_handBuiltReference_producesIdenticalBytes() throws IOException {
        // the same file GgufFileTest.validSmall assembles by hand
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putStringArray("tokenizer.ggml.tokens", List.of("<s>", "a", "é"));
        w.addTensor("a", GgmlType.F32, new long[] {4, 2}, new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f});
        byte[] q8 = new byte[34];
        short d = Float.floatToFloat16(0.5f);
        q8[0] = (byte) d;
        q8[1] = (byte) (d >> 8);
        for (int i = 0; i < 32; i++) {
            q8[2 + i] = (byte) (i - 16);
        }
        w.addTensorBytes("b", GgmlType.Q8_0, new long[] {32}, q8);
        Path p = dir.resolve("ref.gguf");
        w.write(p);
        byte[] expected = GgufFileTest.validSmall().pad(32).bytes();
        assertThat(Files.readAllBytes(p)).isEqualTo(expected);
    }

    @Test
    void addTensor_rowSource_isCalledOncePerRowInOrder() throws IOException {
        List<Long> calls = new ArrayList<>();
        GgufWriter w = new GgufWriter();
        w.addTensor("big", GgmlType.Q8_0, new long[] {64, 5, 3}, (row, out) -> {
            calls.add(row);
            assertThat(out).hasSize(64);
            java.util.Arrays.fill(out, row);
        });
        Path p = dir.resolve("rows.gguf");
        w.write(p);
        assertThat(calls).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L);
        try (GgufFile g = GgufFile.open(p)) {
            GgufTensorInfo t = g.tensor("big").orElseThrow();
            assertThat(t.numRows()).isEqualTo(15);
            float[] row = new float[64];
            g.dequantizeRow(t, 14, row, 0);
            assertThat(row[0]).isCloseTo(14f, org.assertj.core.api.Assertions.within(14f / 220));
        }
    }

    @Test
    void write_rowSourceTensors_reuseOneRowBufferSoMemoryStaysBounded() throws IOException {
        java.util.Set<float[]> buffers = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        GgufWriter w = new GgufWriter();
        RowSource rows = (row, out) -> {
            buffers.add(out);
            java.util.Arrays.fill(out, 0.01f * row);
        };
        w.addTensor("a", GgmlType.Q4_K, new long[] {1024, 64}, rows);
        Path p = dir.resolve("bounded.gguf");
        w.write(p);
        assertThat(buffers).hasSize(1);
        try (GgufFile g = GgufFile.open(p)) {
            GgufTensorInfo t = g.tensor("a").orElseThrow();
            assertThat(t.numBytes()).isEqualTo(64 * 4 * 144);
            float[] row = new float[1024];
            g.dequantizeRow(t, 63, row, 0);
            assertThat(row[1023]).isCloseTo(0.63f, org.assertj.core.api.Assertions.within(0.63f / 16));
        }
    }

    @Test
    void addTensor_invalidArguments_areRejected() {
        GgufWriter w = new GgufWriter();
        assertThatThrownBy(() -> w.addTensor("x", GgmlType.Q4_K, new long[] {128}, new float[128]))
                .hasMessageContaining("not a multiple of Q4_K's block size 256");
        assertThatThrownBy(() -> w.addTensor("x", GgmlType.F32, new long[] {4, 2}, new float[7]))
                .hasMessageContaining("holds 8 elements but 7 values");
        assertThatThrownBy(() -> w.addTensorBytes("x", GgmlType.Q8_0, new long[] {32}, new byte[33]))
                .hasMessageContaining("needs 34 bytes, got 33");
        assertThatThrownBy(() -> w.addTensor("x", GgmlType.Q5_K, new long[] {256}, new float[256]))
                .hasMessageContaining("cannot quantize to Q5_K");
        assertThatThrownBy(() -> w.addTensor("x", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, new float[1]))
                .hasMessageContaining("1..4 dims");
        w.addTensor("x", GgmlType.F32, new long[] {1}, new float[1]);
        assertThatThrownBy(() -> w.addTensor("x", GgmlType.F32, new long[] {1}, new float[1]))
                .hasMessageContaining("duplicate tensor name 'x'");
        assertThatThrownBy(() -> w.putUint32("general.alignment", 48)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> w.putInt32("general.alignment", 64)).hasMessageContaining("must be UINT32");
        assertThatThrownBy(() -> w.put("k", new GgufValue(GgufValueType.UINT8, 256))).hasMessageContaining("UINT8");
    }
}
