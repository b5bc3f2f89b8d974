package io.kvserve.common.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.model.Architecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfModelDirectoryTest {

    @TempDir
    Path dir;

    private static final String CONFIG = """
            {"model_type": "llama", "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
             "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 4, "max_position_embeddings": 32}""";

    private void shard(String name, String tensor, float... values) throws IOException {
        new SafetensorsWriter().addTensor(tensor, SafetensorsDtype.F32, new long[] {values.length}, values)
                .write(dir.resolve(name));
    }

    @Test
    void open_shardedDirectory_mapsEveryTensorToItsShard() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        shard("model-00001-of-00002.safetensors", "a", 1, 2);
        shard("model-00002-of-00002.safetensors", "b", 3);
        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 12}, "weight_map": {
                  "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""");
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");
        HfModelDirectory hf = HfModelDirectory.open(dir);
        assertThat(hf.shardPaths()).hasSize(2);
        assertThat(hf.weightMap().get("b").getFileName().toString()).isEqualTo("model-00002-of-00002.safetensors");
        assertThat(hf.tokenizerJson()).contains(dir.resolve("tokenizer.json"));
        assertThat(hf.tokenizerConfig().orElseThrow().get("bos_token").stringValue()).isEqualTo("<s>");
        assertThat(hf.modelConfig().architecture()).isEqualTo(Architecture.LLAMA);
        try (HfModelDirectory.Weights w = hf.openWeights()) {
            assertThat(w.tensorNames()).containsExactly("a", "b");
            assertThat(w.toFloatArray("a")).containsExactly(1, 2);
            assertThat(w.toFloatArray("b")).containsExactly(3);
            assertThat(w.tensor("c")).isEmpty();
        }
    }

    @Test
    void open_singleFile_hasNoTokenizerWhenAbsent() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        shard("model.safetensors", "a", 1);
        HfModelDirectory hf = HfModelDirectory.open(dir);
        assertThat(hf.shardPaths()).containsExactly(dir.resolve("model.safetensors"));
        assertThat(hf.weightMap()).isEmpty();
        assertThat(hf.tokenizerJson()).isEmpty();
        assertThat(hf.tokenizerConfigJson()).isEmpty();
    }

    @Test
    void open_brokenDirectories_areRejected() throws IOException {
        assertThatThrownBy(() -> HfModelDirectory.open(dir)).hasMessageContaining("no config.json");
        Files.writeString(dir.resolve("config.json"), CONFIG);
        assertThatThrownBy(() -> HfModelDirectory.open(dir)).hasMessageContaining("neither model.safetensors");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"../evil.safetensors\"}}");
        assertThatThrownBy(() -> HfModelDirectory.open(dir)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("not a file in the model directory");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"missing.safetensors\"}}");
        assertThatThrownBy(() -> HfModelDirectory.open(dir)).hasMessageContaining("shard 'missing.safetensors'");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": ");
        assertThatThrownBy(() -> HfModelDirectory.open(dir)).hasMessageContaining("invalid JSON");
    }

    @Test
    void openWeights_tensorInTwoShards_isRejected() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        shard("s1.safetensors", "a", 1);
        shard("s2.safetensors", "a", 2);
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\"}}");
        HfModelDirectory hf = HfModelDirectory.open(dir);
        assertThatThrownBy(hf::openWeights).hasMessageContaining("tensor 'a' is also in");
    }

    @Test
    void modelConfig_invalidField_namesConfigPathAndField() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG.replace("\"hidden_size\": 8,", ""));
        shard("model.safetensors", "a", 1);
        HfModelDirectory hf = HfModelDirectory.open(dir);
        assertThatThrownBy(hf::modelConfig).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("config.json").toString())
                .hasMessageContaining("hidden_size");
    }

    @Test
    void open_configWithInvalidUtf8_namesPathAndSaysInvalidJson() throws IOException {
        byte[] bad = "{\"model_type\": \"ll\u00ffma\"}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        Files.write(dir.resolve("config.json"), bad);
        shard("model.safetensors", "a", 1);
        assertThatThrownBy(() -> HfModelDirectory.open(dir)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining(dir.resolve("config.json").toString())
                .hasMessageContaining("invalid JSON")
                .hasMessageNotContaining("Input length");
    }

    @Test
    void open_configOverSizeLimit_isRejectedNamingPath() throws IOException {
        Path config = dir.resolve("config.json");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(config.toFile(), "rw")) {
            f.setLength(HfModelDirectory.MAX_JSON_BYTES + 1); // sparse
        }
        shard("model.safetensors", "a", 1);
        assertThatThrownBy(() -> HfModelDirectory.open(dir)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining(config.toString())
                .hasMessageContaining("over the limit of " + HfModelDirectory.MAX_JSON_BYTES);
    }

    @Test
    void weightsClose_calledTwice_unmapsEveryShardOnce() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        shard("s1.safetensors", "a", 1);
        shard("s2.safetensors", "b", 2);
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\"}}");
        HfModelDirectory.Weights w = HfModelDirectory.open(dir).openWeights();
        java.lang.foreign.MemorySegment a = w.data("a");
        java.lang.foreign.MemorySegment b = w.data("b");
        w.close();
        w.close();
        assertThatThrownBy(() -> a.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closeAll_oneCloseFails_closesTheRestAndThrowsFirstWithOthersSuppressed() {
        List<String> closed = new java.util.ArrayList<>();
        assertThatThrownBy(() -> HfModelDirectory.closeAll(List.of("s1", "s2", "s3", "s4"), name -> {
            closed.add(name);
            if (name.equals("s2") || name.equals("s3")) {
                throw new IllegalStateException(name + " busy");
            }
        })).isInstanceOf(IllegalStateException.class).hasMessage("s2 busy")
                .satisfies(e -> assertThat(e.getSuppressed()).extracting(Throwable::getMessage).containsExactly("s3 busy"));
        assertThat(closed).containsExactly("s1", "s2", "s3", "s4");
    }
}
