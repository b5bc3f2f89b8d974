package io.kvserve.common.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Reads a file written by llama.cpp's own Python package (gguf-py) and compares every tensor with
 * gguf-py's dequantization; see make_gguf_py_reference.py beside the fixture.
 */
class GgufReferenceFileTest {

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(GgufReferenceFileTest.class.getResource(name).toURI());
    }

    @Test
    void open_fileWrittenByGgufPy_matchesItsMetadataAndDequantization() throws IOException, URISyntaxException {
        ByteBuffer expected = ByteBuffer.wrap(Files.readAllBytes(resource("gguf-py-reference.f32")))
                .order(ByteOrder.LITTLE_ENDIAN);
        try (GgufFile g = GgufFile.open(resource("gguf-py-reference.gguf"))) {
            assertThat(g.string("general.architecture")).contains("llama");
            assertThat(g.integer("llama.block_count")).hasValue(2);
            assertThat(g.integer("test.int32")).hasValue(-7);
            assertThat(g.value("test.uint64").orElseThrow()).isEqualTo(new GgufValue(GgufValueType.UINT64, 1L << 40));
            assertThat(g.float32("test.float32")).contains(0.25f);
            assertThat(g.floating("test.float64").getAsDouble()).isEqualTo(-1.5);
            assertThat(g.bool("test.bool")).contains(true);
            assertThat(g.string("test.string")).contains("héllo");
            assertThat(g.stringArray("test.strings")).containsExactly("<s>", "▁a", "😀");
            assertThat(g.intArray("test.ints")).containsExactly(1, 2, 3);
            assertThat(g.floatArray("test.floats")).containsExactly(0.5f, -0.5f);
            assertThat(g.tensors().keySet()).containsExactly("f32", "f16", "bf16", "q4_0", "q8_0", "q4_k", "q6_k");
            for (GgufTensorInfo t : g.tensors().values()) {
                assertThat(t.ne()).as(t.name()).containsExactly(256, 2);
                float[] actual = g.dequantizeAll(t.name());
                for (int i = 0; i < actual.length; i++) {
                    float want = expected.getFloat();
                    assertThat(actual[i]).as("%s[%d]", t.name(), i).isEqualTo(want);
                }
            }
            assertThat(expected.hasRemaining()).isFalse();

            // and the writer reproduces gguf-py's file byte for byte from what was read
            GgufWriter copy = new GgufWriter().putAll(g);
            for (GgufTensorInfo t : g.tensors().values()) {
                copy.addTensorBytes(t.name(), t.type(), t.ne(), g.data(t));
            }
            Path out = Files.createTempFile("gguf-copy", ".gguf");
            try {
                copy.write(out);
                assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(resource("gguf-py-reference.gguf")));
            } finally {
                Files.delete(out);
            }
        }
    }
}
