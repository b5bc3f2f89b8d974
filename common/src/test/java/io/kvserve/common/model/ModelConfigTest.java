package io.kvserve.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ModelConfigTest {

    @TempDir
    Path dir;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static final String LLAMA_3_2_1B = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
             "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
             "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
             "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16,
             "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 128256}""";

    static final String QWEN2_5_0_5B = """
            {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "intermediate_size": 4864,
             "max_position_embeddings": 32768, "model_type": "qwen2", "num_attention_heads": 14,
             "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_scaling": null,
             "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true, "vocab_size": 151936}""";

    private static JsonNode json(String s) {
        return JSON.readTree(s);
    }

    @Test
    void fromHfConfig_llama32_readsEveryFieldAndLlama3Scaling() {
        ModelConfig c = ModelConfig.fromHfConfig(json(LLAMA_3_2_1B));
        assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
        assertThat(c.dim()).isEqualTo(2048);
        assertThat(c.hiddenDim()).isEqualTo(8192);
        assertThat(c.numLayers()).isEqualTo(16);
        assertThat(c.numHeads()).isEqualTo(32);
        assertThat(c.numKvHeads()).isEqualTo(8);
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.vocabSize()).isEqualTo(128256);
        assertThat(c.contextLength()).isEqualTo(131072);
        assertThat(c.rmsNormEps()).isEqualTo(1e-5f);
        assertThat(c.ropeTheta()).isEqualTo(500000f);
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.llama3(32f, 1f, 4f, 8192));
        assertThat(c.tiedEmbeddings()).isTrue();
        assertThat(c.qkvBias()).isFalse();
        assertThat(c.ropeLayout()).isEqualTo(RopeLayout.NEOX_HALVES);
        assertThat(c.numQueriesPerKvHead()).isEqualTo(4);
        float[] divisors = c.ropeFrequencyDivisors();
        assertThat(divisors).hasSize(32);
        assertThat(divisors[0]).isEqualTo(1f);
        assertThat(divisors[31]).isEqualTo(32f);
        boolean sawSmooth = false;
        for (int i = 1; i < divisors.length; i++) {
            assertThat(divisors[i]).isGreaterThanOrEqualTo(divisors[i - 1]);
            sawSmooth |= divisors[i] > 1f && divisors[i] < 32f;
        }
        assertThat(sawSmooth).isTrue();
    }

    @Test
    void fromHfConfig_qwen25_hasBiasAndDefaultHeadDim() {
        ModelConfig c = ModelConfig.fromHfConfig(json(QWEN2_5_0_5B));
        assertThat(c.architecture()).isEqualTo(Architecture.QWEN2);
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.qkvBias()).isTrue();
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.NONE);
        assertThat(c.ropeFrequencyDivisors()).containsOnly(1f);
        assertThat(c.tiedEmbeddings()).isTrue();
        assertThat(c.rmsNormEps()).isEqualTo(1e-6f);
    }

    @Test
    void fromHfConfig_mistralWithLinearScaling_readsFactorAndDefaults() {
        ModelConfig c = ModelConfig.fromHfConfig(json("""
                {"model_type": "mistral", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, "max_position_embeddings": 256,
                 "rope_scaling": {"type": "linear", "factor": 2.0}}"""));
        assertThat(c.architecture()).isEqualTo(Architecture.MISTRAL);
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.linear(2f));
        assertThat(c.ropeFrequencyDivisors()).containsOnly(2f);
        assertThat(c.ropeTheta()).isEqualTo(10000f);
        assertThat(c.tiedEmbeddings()).isFalse();
    }

    @Test
    void fromHfConfig_invalidValues_giveMessagesWithValuesAndFix() {
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(json(LLAMA_3_2_1B.replace("\"num_key_value_heads\": 8",
                "\"num_key_value_heads\": 6"))))
                .hasMessageContaining("numHeads 32 is not a multiple of numKvHeads 6").hasMessageContaining("num_key_value_heads");
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(json(LLAMA_3_2_1B.replace("\"model_type\": \"llama\"",
                "\"model_type\": \"gpt2\"")))).hasMessageContaining("model_type 'gpt2' is not supported");
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(json(LLAMA_3_2_1B.replace("\"hidden_size\": 2048,", ""))))
                .hasMessageContaining("no \"hidden_size\"");
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(json(LLAMA_3_2_1B.replace("\"llama3\"", "\"yarn\""))))
                .hasMessageContaining("rope_scaling type 'yarn' is not supported");
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(json(LLAMA_3_2_1B.replace("\"high_freq_factor\": 4.0",
                "\"high_freq_factor\": 0.5")))).hasMessageContaining("lowFreqFactor < highFreqFactor");
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(json(LLAMA_3_2_1B.replace("\"vocab_size\": 128256",
                "\"vocab_size\": \"big\"")))).hasMessageContaining("\"vocab_size\" = \"big\" is not an int");
    }

    private Path gguf(String arch, Consumer<GgufWriter> extra) throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", arch);
        w.putUint32(arch + ".context_length", 2048);
        w.putUint32(arch + ".embedding_length", 64);
        w.putUint32(arch + ".block_count", 2);
        w.putUint32(arch + ".feed_forward_length", 128);
        w.putUint32(arch + ".attention.head_count", 4);
        w.putUint32(arch + ".attention.head_count_kv", 2);
        w.putFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
        w.putFloat32(arch + ".rope.freq_base", 500000f);
        w.putUint32(arch + ".rope.dimension_count", 16);
        w.putStringArray("tokenizer.ggml.tokens", List.of("a", "b", "c"));
        w.addTensor("token_embd.weight", GgmlType.F32, new long[] {64, 3}, new float[64 * 3]);
        extra.accept(w);
        Path p = dir.resolve(arch + System.nanoTime() + ".gguf");
        w.write(p);
        return p;
    }

    @Test
    void fromGguf_llamaWithoutOutputWeight_isTiedInterleavedAndUnscaled() throws IOException {
        try (GgufFile g = GgufFile.open(gguf("llama", w -> { }))) {
            ModelConfig c = ModelConfig.fromGguf(g);
            assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
            assertThat(c).extracting(ModelConfig::dim, ModelConfig::hiddenDim, ModelConfig::numLayers, ModelConfig::numHeads,
                    ModelConfig::numKvHeads, ModelConfig::headDim, ModelConfig::vocabSize, ModelConfig::contextLength)
                    .containsExactly(64, 128, 2, 4, 2, 16, 3, 2048);
            assertThat(c.rmsNormEps()).isEqualTo(1e-6f);
            assertThat(c.ropeTheta()).isEqualTo(500000f);
            assertThat(c.tiedEmbeddings()).isTrue();
            assertThat(c.qkvBias()).isFalse();
            assertThat(c.ropeLayout()).isEqualTo(RopeLayout.INTERLEAVED_PAIRS);
            assertThat(c.ropeScaling()).isEqualTo(RopeScaling.NONE);
            assertThat(c.ropeFreqFactors()).isNull();
        }
    }

    @Test
    void fromGguf_ropeFreqsTensor_givesLlama3DivisorsAsConverterWrites() throws IOException {
        float[] divisors = RopeScaling.llama3(32f, 1f, 4f, 8192).frequencyDivisors(16, 500000);
        Path p = gguf("llama", w -> {
            w.addTensor("output.weight", GgmlType.F32, new long[] {64, 3}, new float[64 * 3]);
            w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {8}, divisors);
            w.putUint32("llama.vocab_size", 3);
        });
        try (GgufFile g = GgufFile.open(p)) {
            ModelConfig c = ModelConfig.fromGguf(g);
            assertThat(c.tiedEmbeddings()).isFalse();
            assertThat(c.ropeScaling().type()).isEqualTo(RopeScaling.Type.LLAMA3);
            assertThat(c.ropeScaling().factor()).isEqualTo(32f);
            assertThat(c.ropeFrequencyDivisors()).containsExactly(divisors);
        }
    }

    @Test
    void fromGguf_qwen2_isNeoxWithBiasAndLinearScaling() throws IOException {
        Path p = gguf("qwen2", w -> {
            w.putString("qwen2.rope.scaling.type", "linear");
            w.putFloat32("qwen2.rope.scaling.factor", 4f);
        });
        try (GgufFile g = GgufFile.open(p)) {
            ModelConfig c = ModelConfig.fromGguf(g);
            assertThat(c.architecture()).isEqualTo(Architecture.QWEN2);
            assertThat(c.ropeLayout()).isEqualTo(RopeLayout.NEOX_HALVES);
            assertThat(c.qkvBias()).isTrue();
            assertThat(c.ropeScaling()).isEqualTo(RopeScaling.linear(4f));
        }
    }

    @Test
    void fromGguf_problems_nameFileAndKey() throws IOException {
        try (GgufFile g = GgufFile.open(gguf("gpt2", w -> { }))) {
            assertThatThrownBy(() -> ModelConfig.fromGguf(g)).hasMessageContaining("architecture 'gpt2' is not supported")
                    .hasMessageContaining(g.path().toString());
        }
        try (GgufFile g = GgufFile.open(gguf("llama", w -> w.putUint32("llama.rope.dimension_count", 8)))) {
            assertThatThrownBy(() -> ModelConfig.fromGguf(g)).hasMessageContaining("partial rotary");
        }
        try (GgufFile g = GgufFile.open(gguf("llama", w -> w.putUint32("llama.attention.head_count_kv", 3)))) {
            assertThatThrownBy(() -> ModelConfig.fromGguf(g)).hasMessageContaining("numHeads 4 is not a multiple of numKvHeads 3");
        }
        try (GgufFile g = GgufFile.open(gguf("llama", w -> w.putString("llama.block_count", "two")))) {
            assertThatThrownBy(() -> ModelConfig.fromGguf(g)).hasMessageContaining("llama.block_count has type STRING");
        }
        try (GgufFile g = GgufFile.open(gguf("llama", w -> w.putString("llama.rope.scaling.type", "yarn")))) {
            assertThatThrownBy(() -> ModelConfig.fromGguf(g)).hasMessageContaining("'yarn' is not supported");
        }
    }

    @Test
    void constructor_badValues_explainTheFix() {
        assertThatThrownBy(() -> new ModelConfig(Architecture.LLAMA, 64, 128, 2, 4, 2, 15, 3, 16, 1e-5f, 1e4f,
                RopeScaling.NONE, null, true, false, RopeLayout.INTERLEAVED_PAIRS)).hasMessageContaining("headDim 15 is odd");
        assertThatThrownBy(() -> new ModelConfig(Architecture.LLAMA, 64, 128, 2, 4, 2, 16, 3, 16, 1e-5f, 1e4f,
                RopeScaling.NONE, new float[3], true, false, RopeLayout.INTERLEAVED_PAIRS))
                .hasMessageContaining("ropeFreqFactors has 3 entries but headDim 16 needs headDim/2 = 8");
        assertThatThrownBy(() -> new ModelConfig(Architecture.LLAMA, 64, 128, 0, 4, 2, 16, 3, 16, 1e-5f, 1e4f,
                RopeScaling.NONE, null, true, false, RopeLayout.INTERLEAVED_PAIRS)).hasMessageContaining("numLayers must be positive");
        assertThatThrownBy(() -> new ModelConfig(Architecture.LLAMA, 64, 128, 2, 4, 2, 16, 3, 16, 0f, 1e4f,
                RopeScaling.NONE, null, true, false, RopeLayout.INTERLEAVED_PAIRS)).hasMessageContaining("rmsNormEps 0.0");
    }
}
