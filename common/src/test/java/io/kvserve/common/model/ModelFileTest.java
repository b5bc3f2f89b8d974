package io.kvserve.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufWriter;
import io.kvserve.common.safetensors.SafetensorsDtype;
import io.kvserve.common.safetensors.SafetensorsWriter;
import io.kvserve.common.tokenizer.TokenizerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {
    @TempDir
    Path dir;

    /** A llama GGUF with a 3-token gpt2 tokenizer ("a", "b", "ab"), plus {@code extra}'s keys. */
    private Path gguf(Consumer<GgufWriter> extra) throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putUint32("llama.context_length", 2048);
        w.putUint32("llama.embedding_length", 64);
        w.putUint32("llama.block_count", 2);
        w.putUint32("llama.feed_forward_length", 128);
        w.putUint32("llama.attention.head_count", 4);
        w.putUint32("llama.attention.head_count_kv", 2);
        w.putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
        w.putUint32("llama.rope.dimension_count", 16);
        w.putString("tokenizer.ggml.model", "gpt2");
        w.putStringArray("tokenizer.ggml.tokens", List.of("a", "b", "ab"));
        w.addTensor("token_embd.weight", GgmlType.F32, new long[] {64, 3}, new float[64 * 3]);
        extra.accept(w);
        Path p = dir.resolve("m" + System.nanoTime() + ".gguf");
        w.write(p);
        return p;
    }

    @Test
    void tokenizerData_bosIdOutOfRange_namesPathAndKey() throws IOException {
        Path p = gguf(w -> w.putUint32("tokenizer.ggml.bos_token_id", 0xFFFF_FFFFL));
        try (GgufFile g = GgufFile.open(p)) {
            assertThatThrownBy(() -> ModelFile.tokenizerData(g)).isInstanceOf(IOException.class)
                    .hasMessageContaining(p.toString())
                    .hasMessageContaining("tokenizer.ggml.bos_token_id = 4294967295")
                    .hasMessageContaining("0..2");
        }
    }

    @Test
    void tokenizerData_negativeAndEdgeIds_rejectedOrAccepted() throws IOException {
        Path negative = gguf(w -> w.putInt32("tokenizer.ggml.eos_token_id", -1));
        try (GgufFile g = GgufFile.open(negative)) {
            assertThatThrownBy(() -> ModelFile.tokenizerData(g)).hasMessageContaining("tokenizer.ggml.eos_token_id = -1");
        }
        Path last = gguf(w -> w.putUint32("tokenizer.ggml.bos_token_id", 2));
        try (GgufFile g = GgufFile.open(last)) {
            assertThat(ModelFile.tokenizerData(g).bosId()).hasValue(2);
        }
        Path past = gguf(w -> w.putUint32("tokenizer.ggml.padding_token_id", 3));
        try (GgufFile g = GgufFile.open(past)) {
            assertThatThrownBy(() -> ModelFile.tokenizerData(g)).hasMessageContaining("tokenizer.ggml.padding_token_id = 3");
        }
    }

    @Test
    void tokenizer_ggufLoaderError_namesGgufPath() throws IOException {
        Path p = gguf(w -> w.putStringArray("tokenizer.ggml.merges", List.of("zz qq")));
        try (ModelFile m = ModelFile.open(p)) {
            assertThatThrownBy(m::tokenizer).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining(p.toString())
                    .hasMessageContaining("'zz qq'");
        }
    }

    @Test
    void tokenizer_hfLoaderError_namesTokenizerJsonPath() throws IOException {
        Path tokenizerJson = hfDirWithoutTokenizer().resolve("tokenizer.json");
        Files.writeString(tokenizerJson, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        try (ModelFile m = ModelFile.open(dir)) {
            assertThatThrownBy(m::tokenizer).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining(tokenizerJson.toString())
                    .hasMessageContaining("model.type = WordPiece");
        }
    }

    @Test
    void tokenizer_hfTokenizerJsonInvalidUtf8_namesPath() throws IOException {
        Path tokenizerJson = hfDirWithoutTokenizer().resolve("tokenizer.json");
        Files.write(tokenizerJson, new byte[] {'{', '"', (byte) 0xFF, '"', ':', '1', '}'});
        try (ModelFile m = ModelFile.open(dir)) {
            assertThatThrownBy(m::tokenizer).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining(tokenizerJson.toString())
                    .hasMessageNotContaining("Input length");
        }
    }

    /** A minimal HF directory (config.json, one safetensors tensor) for tokenizer.json cases. */
    private Path hfDirWithoutTokenizer() throws IOException {
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "llama", "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 4, "max_position_embeddings": 32}""");
        new SafetensorsWriter().addTensor("a", SafetensorsDtype.F32, new long[] {1}, new float[] {1})
                .write(dir.resolve("model.safetensors"));
        return dir;
    }
}
