package io.kvserve.common.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {

    @TempDir
    Path dir;

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** v3, 2 kvs, tensors: "a" F32 [4, 2] at 0, "b" Q8_0 [32] at 32. */
    static GgufBytes validSmall() {
        GgufBytes b = new GgufBytes().header(3, 2, 2);
        b.str("general.architecture").u32(8).str("llama");
        b.str("tokenizer.ggml.tokens").u32(9).u32(8).u64(3).str("<s>").str("a").str("é");
        b.str("a").u32(2).u64(4).u64(2).u32(0).u64(0);
        b.str("b").u32(1).u64(32).u32(8).u64(32);
        b.pad(32);
        for (int i = 0; i < 8; i++) {
            b.f32(i * 0.5f);
        }
        b.u16(Float.floatToFloat16(0.5f));
        for (int i = 0; i < 32; i++) {
            b.u8(i - 16);
        }
        return b;
    }

    @Test
    void open_handBuiltFile_readsMetadataTensorsAndData() throws IOException {
        try (GgufFile g = GgufFile.open(file("small.gguf", validSmall().bytes()))) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.metadata().keySet()).containsExactly("general.architecture", "tokenizer.ggml.tokens");
            assertThat(g.string("general.architecture")).contains("llama");
            assertThat(g.stringArray("tokenizer.ggml.tokens")).containsExactly("<s>", "a", "é");
            assertThat(g.tensors().keySet()).containsExactly("a", "b");
            GgufTensorInfo a = g.tensor("a").orElseThrow();
            assertThat(a.ne()).containsExactly(4, 2);
            assertThat(a.numRows()).isEqualTo(2);
            assertThat(g.dataStart() % 32).isZero();
            assertThat(g.dequantizeAll("a")).containsExactly(0f, 0.5f, 1f, 1.5f, 2f, 2.5f, 3f, 3.5f);
            float[] row = new float[4];
            g.dequantizeRow(a, 1, row, 0);
            assertThat(row).containsExactly(2f, 2.5f, 3f, 3.5f);
            float[] q = g.dequantizeAll("b");
            assertThat(q[0]).isEqualTo(-8f);
            assertThat(q[31]).isEqualTo(7.5f);
            assertThat(g.data(g.tensor("b").orElseThrow()).byteSize()).isEqualTo(34);
        }
    }

    @Test
    void open_version2_isAccepted() throws IOException {
        byte[] bytes = validSmall().bytes();
        bytes[4] = 2;
        try (GgufFile g = GgufFile.open(file("v2.gguf", bytes))) {
            assertThat(g.version()).isEqualTo(2);
        }
    }

    @Test
    void open_everyValueType_decodesToDocumentedJavaTypes() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 14);
        b.str("u8").u32(0).u8(200);
        b.str("i8").u32(1).u8(0xFE);
        b.str("u16").u32(2).u16(60000);
        b.str("i16").u32(3).u16(-2);
        b.str("u32").u32(4).u32(4_000_000_000L);
        b.str("i32").u32(5).u32(-7);
        b.str("f32").u32(6).f32(1.5f);
        b.str("bool").u32(7).u8(1);
        b.str("str").u32(8).str("hi");
        b.str("arr").u32(9).u32(5).u64(2).u32(1).u32(-1);
        b.str("u64").u32(10).u64(-1L);
        b.str("i64").u32(11).u64(-5L);
        b.str("f64").u32(12).u64(Double.doubleToRawLongBits(2.25));
        b.str("nested").u32(9).u32(9).u64(2).u32(6).u64(1).f32(3f).u32(8).u64(0);
        try (GgufFile g = GgufFile.open(file("types.gguf", b.bytes()))) {
            assertThat(g.metadata()).containsEntry("u8", 200).containsEntry("i8", -2).containsEntry("u16", 60000)
                    .containsEntry("i16", -2).containsEntry("u32", 4_000_000_000L).containsEntry("i32", -7)
                    .containsEntry("f32", 1.5f).containsEntry("bool", true).containsEntry("str", "hi")
                    .containsEntry("u64", -1L).containsEntry("i64", -5L).containsEntry("f64", 2.25);
            assertThat(g.intArray("arr")).containsExactly(1, -1);
            assertThat(g.integer("u32")).hasValue(4_000_000_000L);
            assertThat(g.integer("u8")).hasValue(200);
            assertThat(g.integer("str")).isEmpty();
            assertThat(g.float32("f32")).contains(1.5f);
            assertThat(g.floating("f64").getAsDouble()).isEqualTo(2.25);
            assertThat(g.bool("bool")).contains(true);
            GgufArray nested = g.array("nested").orElseThrow();
            assertThat(nested.elementType()).isEqualTo(GgufValueType.ARRAY);
            assertThat(nested.elements()).containsExactly(
                    new GgufArray(GgufValueType.FLOAT32, List.of(3f)), new GgufArray(GgufValueType.STRING, List.of()));
            assertThat(g.value("u16").orElseThrow().type()).isEqualTo(GgufValueType.UINT16);
        }
    }

    // ------------------------------------------------------------------ bad input

    private void assertRejected(String name, byte[] bytes, String... messageParts) throws IOException {
        Path p = file(name, bytes);
        var assertion = assertThatThrownBy(() -> GgufFile.open(p).close())
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining(name);
        for (String part : messageParts) {
            assertion.hasMessageContaining(part);
        }
    }

    @Test
    void open_emptyFile_isTruncated() throws IOException {
        assertRejected("empty.gguf", new byte[0], "truncated");
    }

    @Test
    void open_wrongMagic_saysNotGguf() throws IOException {
        byte[] bytes = validSmall().bytes();
        bytes[0] = 'X';
        assertRejected("magic.gguf", bytes, "not a GGUF file");
    }

    @Test
    void open_version1_saysUnsupportedWithFix() throws IOException {
        byte[] bytes = validSmall().bytes();
        bytes[4] = 1;
        assertRejected("v1.gguf", bytes, "version 1", "re-convert");
    }

    @Test
    void open_version4_saysUnsupported() throws IOException {
        byte[] bytes = validSmall().bytes();
        bytes[4] = 4;
        assertRejected("v4.gguf", bytes, "unsupported GGUF version 4");
    }

    @Test
    void open_bigEndianFile_saysSo() throws IOException {
        byte[] bytes = validSmall().bytes();
        bytes[4] = 0;
        bytes[7] = 3;
        assertRejected("be.gguf", bytes, "big-endian");
    }

    @Test
    void open_absurdTensorCount_isRejectedBeforeAllocating() throws IOException {
        assertRejected("count.gguf", new GgufBytes().header(3, Long.MAX_VALUE / 2, 0).bytes(), "tensor count");
        assertRejected("kvs.gguf", new GgufBytes().header(3, 0, 1L << 40).bytes(), "metadata kv count");
        assertRejected("neg.gguf", new GgufBytes().header(3, -1, 0).bytes(), "tensor count 18446744073709551615");
    }

    @Test
    void open_absurdStringLength_isRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1).u64(1L << 50).raw(new byte[40]);
        assertRejected("strlen.gguf", b.bytes(), "string length 1125899906842624");
    }

    @Test
    void open_absurdArrayLength_isRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1).str("k").u32(9).u32(8).u64(Integer.MAX_VALUE).raw(new byte[64]);
        assertRejected("arrlen.gguf", b.bytes(), "array length 2147483647");
    }

    @Test
    void open_deeplyNestedArrays_areRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1).str("k").u32(9);
        for (int i = 0; i < 100; i++) {
            b.u32(9).u64(1);
        }
        b.raw(new byte[200]);
        assertRejected("nest.gguf", b.bytes(), "nested deeper");
    }

    @Test
    void open_unknownValueType_isRejected() throws IOException {
        assertRejected("vtype.gguf", new GgufBytes().header(3, 0, 1).str("k").u32(13).u64(0).bytes(),
                "'k' has unknown value type 13");
    }

    @Test
    void open_invalidBool_isRejected() throws IOException {
        assertRejected("bool.gguf", new GgufBytes().header(3, 0, 1).str("k").u32(7).u8(2).bytes(), "bool");
    }

    @Test
    void open_unknownTensorType_namesIdAndTensor() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0).str("blk.0.attn_q.weight").u32(1).u64(32).u32(77).u64(0).pad(32)
                .raw(new byte[128]);
        assertRejected("ttype.gguf", b.bytes(), "tensor 'blk.0.attn_q.weight' has unknown ggml type id 77");
    }

    @Test
    void open_tooManyDims_isRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0).str("t").u32(5);
        for (int i = 0; i < 5; i++) {
            b.u64(1);
        }
        b.u32(0).u64(0).pad(32).raw(new byte[32]);
        assertRejected("dims.gguf", b.bytes(), "tensor 't' has 5 dimensions; at most 4");
    }

    @Test
    void open_tensorPastEndOfFile_namesOffsetSizeAndFileSize() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0).str("blk.0.attn_q.weight").u32(2).u64(64).u64(64).u32(0).u64(0)
                .pad(32).raw(new byte[100]);
        int size = b.size();
        assertRejected("past.gguf", b.bytes(),
                "tensor 'blk.0.attn_q.weight' data [offset 0, 16384 bytes] runs past end of file (" + size + " bytes");
    }

    @Test
    void open_overlappingTensors_areRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 2, 0);
        b.str("x").u32(1).u64(16).u32(0).u64(0);
        b.str("y").u32(1).u64(16).u32(0).u64(32);
        b.pad(32).raw(new byte[128]);
        assertRejected("overlap.gguf", b.bytes(), "tensor 'y'", "overlaps tensor 'x'");
    }

    @Test
    void open_misalignedOffset_isRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0).str("x").u32(1).u64(4).u32(0).u64(4).pad(32).raw(new byte[64]);
        assertRejected("align.gguf", b.bytes(), "offset 4 is not a multiple of the alignment 32");
    }

    @Test
    void open_duplicateTensorName_isRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 2, 0);
        b.str("x").u32(1).u64(4).u32(0).u64(0);
        b.str("x").u32(1).u64(4).u32(0).u64(32);
        b.pad(32).raw(new byte[64]);
        assertRejected("dup.gguf", b.bytes(), "duplicate tensor name 'x'");
    }

    @Test
    void open_rowNotMultipleOfBlock_isRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0).str("q").u32(1).u64(33).u32(8).u64(0).pad(32).raw(new byte[64]);
        assertRejected("block.gguf", b.bytes(), "ne0=33 is not a multiple of Q8_0's block size 32");
    }

    @Test
    void open_badAlignmentValue_isRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1).str("general.alignment").u32(4).u32(24);
        assertRejected("alignval.gguf", b.bytes(), "general.alignment = 24");
    }

    @Test
    void open_elementCountOverflow_isRejected() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0).str("x").u32(4).u64(1L << 20).u64(1L << 20).u64(1L << 20)
                .u64(1L << 20).u32(0).u64(0).pad(32);
        assertRejected("overflow.gguf", b.bytes(), "overflows");
    }

    @Test
    void open_everyTruncation_givesOnlyFormatException() throws IOException {
        byte[] bytes = validSmall().bytes();
        for (int length = 0; length < bytes.length; length++) {
            Path p = file("trunc.gguf", Arrays.copyOf(bytes, length));
            assertThatThrownBy(() -> GgufFile.open(p).close()).as("length %d", length)
                    .isInstanceOf(GgufFormatException.class);
        }
    }

    /** A writer-made file with every metadata kind, nested arrays and one tensor of each supported type. */
    private byte[] validRich() throws IOException {
        GgufWriter w = new GgufWriter();
        w.putUint8("u8", 1).putInt8("i8", -1).putUint16("u16", 2).putInt16("i16", -2).putUint32("u32", 3)
                .putInt32("i32", -3).putUint64("u64", 4).putInt64("i64", -4).putFloat32("f32", 0.5f)
                .putFloat64("f64", 0.25).putBool("b", true).putString("s", "x")
                .putStringArray("sa", List.of("a", "bc")).putInt32Array("ia", new int[] {1, 2})
                .putArray("na", new GgufArray(GgufValueType.ARRAY, List.of(new GgufArray(GgufValueType.UINT8, List.of(9)))));
        for (GgmlType t : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q8_0,
                GgmlType.Q4_K, GgmlType.Q6_K}) {
            w.addTensor("t." + t, t, new long[] {256}, new float[256]);
        }
        Path p = dir.resolve("rich.gguf");
        w.write(p);
        return Files.readAllBytes(p);
    }

    @Test
    void open_randomCorruptions_giveOnlyFormatExceptionOrAValidFile() throws IOException {
        fuzz(validSmall().bytes(), 1234);
        fuzz(validRich(), 5678);
    }

    private void fuzz(byte[] valid, long seed) throws IOException {
        Random random = new Random(seed);
        int numAccepted = 0;
        for (int trial = 0; trial < 3000; trial++) {
            byte[] bytes = valid.clone();
            int numFlips = 1 + random.nextInt(4);
            for (int f = 0; f < numFlips; f++) {
                int at = random.nextInt(bytes.length);
                switch (random.nextInt(3)) {
                    case 0 -> bytes[at] = (byte) random.nextInt(256);
                    case 1 -> bytes[at] ^= (byte) (1 << random.nextInt(8));
                    default -> bytes[at] = (byte) (random.nextBoolean() ? 0xFF : 0x7F);
                }
            }
            if (random.nextInt(4) == 0) {
                bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
            }
            Path p = file("fuzz.gguf", bytes);
            try (GgufFile g = GgufFile.open(p)) {
                numAccepted++;
                for (GgufTensorInfo t : g.tensors().values()) {
                    if (t.type().isSupported() && t.numElements() < 1_000_000) {
                        g.dequantizeAll(t.name()); // whatever was accepted must be readable
                    }
                }
            } catch (GgufFormatException expected) {
                assertThat(expected.getMessage()).startsWith(p.toString());
            } catch (Throwable other) {
                throw new AssertionError("trial " + trial + " threw " + other + " for bytes " + Arrays.toString(bytes), other);
            }
        }
        assertThat(numAccepted).isPositive(); // flips inside float data leave the file valid
    }

    @Test
    void dequantizeAll_missingTensor_namesIt() throws IOException {
        try (GgufFile g = GgufFile.open(file("small.gguf", validSmall().bytes()))) {
            assertThatThrownBy(() -> g.dequantizeAll("nope")).hasMessageContaining("no tensor 'nope'");
        }
    }

    @Test
    void close_thenData_throwsIllegalState() throws IOException {
        GgufFile g = GgufFile.open(file("small.gguf", validSmall().bytes()));
        var seg = g.data(g.tensor("a").orElseThrow());
        g.close();
        assertThatThrownBy(() -> seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void close_calledTwice_secondIsNoOp() throws IOException {
        GgufFile g = GgufFile.open(file("twice.gguf", validSmall().bytes()));
        g.close();
        g.close();
        assertThatThrownBy(() -> g.dequantizeAll("a")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void floatArray_readsFloat32Array() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1).str("s").u32(9).u32(6).u64(2).f32(0.5f).f32(-1f);
        try (GgufFile g = GgufFile.open(file("fa.gguf", b.bytes()))) {
            assertThat(g.floatArray("s")).containsExactly(0.5f, -1f);
            assertThat(g.floatArray("missing")).isEmpty();
            assertThatThrownBy(() -> g.stringArray("s")).hasMessageContaining("array of FLOAT32, expected STRING");
        }
    }

    /** A v3 file with no tensors and one kv {@code "x"}: a UINT8 array of {@code count} bytes 0xFF. */
    private Path bigUint8Array(String name, long count) throws IOException {
        Path p = dir.resolve(name);
        byte[] header = new GgufBytes().header(3, 0, 1).str("x").u32(9).u32(0).u64(count).bytes();
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p,
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(header));
            byte[] fill = new byte[1 << 20];
            Arrays.fill(fill, (byte) 0xFF);
            for (long left = count; left > 0; left -= fill.length) {
                java.nio.ByteBuffer chunk = java.nio.ByteBuffer.wrap(fill, 0, (int) Math.min(left, fill.length));
                while (chunk.hasRemaining()) {
                    ch.write(chunk);
                }
            }
        }
        return p;
    }

    @Test
    void open_64MiBUint8Array_isStoredUnboxed() throws IOException {
        int count = 64 << 20;
        try (GgufFile g = GgufFile.open(bigUint8Array("big.gguf", count))) {
            GgufArray a = g.array("x").orElseThrow();
            assertThat(a.elementType()).isEqualTo(GgufValueType.UINT8);
            assertThat(a.size()).isEqualTo(count);
            assertThat(a.getLong(0)).isEqualTo(255);
            assertThat(a.getLong(count - 1)).isEqualTo(255);
            assertThat(a.elements().get(count / 2)).isEqualTo(255);
        }
    }

    @Test
    void open_arrayOverMetadataBudget_isRejectedNamingFileAndKey() throws IOException {
        Path p = bigUint8Array("over.gguf", 1 << 20);
        assertThatThrownBy(() -> GgufFile.open(p, 512 << 10))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining(p.toString())
                .hasMessageContaining("metadata 'x'")
                .hasMessageContaining("budget of " + (512 << 10));
        try (GgufFile g = GgufFile.open(p, 2 << 20)) {
            assertThat(g.array("x").orElseThrow().size()).isEqualTo(1 << 20);
        }
    }

    @Test
    void metadataBudgetBytes_smallOrLargeHeap_isQuarterHeapCappedAt512MiB() {
        assertThat(GgufFile.metadataBudgetBytes(1L << 30)).isEqualTo(256L << 20);
        assertThat(GgufFile.metadataBudgetBytes(2L << 30)).isEqualTo(512L << 20);
        assertThat(GgufFile.metadataBudgetBytes(64L << 30)).isEqualTo(512L << 20);
    }

    @Test
    void open_stringOver64MiB_isRejectedNamingKey() throws IOException {
        Path p = dir.resolve("longstring.gguf");
        long length = (64L << 20) + 1;
        byte[] header = new GgufBytes().header(3, 0, 1).str("general.name").u32(8).u64(length).bytes();
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.write(header);
            f.setLength(header.length + length); // sparse: the reader must refuse before touching the bytes
        }
        assertThatThrownBy(() -> GgufFile.open(p))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining(p.toString())
                .hasMessageContaining("metadata 'general.name'")
                .hasMessageContaining("limit of " + (64 << 20));
    }

    @Test
    void ggufArray_fromBoxedList_roundTripsEveryType() {
        assertThat(new GgufArray(GgufValueType.UINT32, List.of(0xFFFF_FFFFL)).elements()).containsExactly(0xFFFF_FFFFL);
        assertThat(new GgufArray(GgufValueType.INT8, List.of(-2)).getLong(0)).isEqualTo(-2);
        assertThat(new GgufArray(GgufValueType.UINT16, List.of(60000)).elements()).containsExactly(60000);
        assertThat(new GgufArray(GgufValueType.BOOL, List.of(true, false)).elements()).containsExactly(true, false);
        assertThat(new GgufArray(GgufValueType.FLOAT64, List.of(1.5)))
                .isEqualTo(new GgufArray(GgufValueType.FLOAT64, List.of(1.5)))
                .isNotEqualTo(new GgufArray(GgufValueType.FLOAT32, List.of(1.5f)));
        assertThatThrownBy(() -> new GgufArray(GgufValueType.UINT8, List.of(256)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
