package io.kvserve.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.model.ModelFile;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelGenerator.WeightType;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.engine.ops.ScalarTensorOps;
import io.kvserve.engine.ops.TensorOps;
import io.kvserve.engine.ops.VectorTensorOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LlamaModelTest {

    /** Teacher-forced ids, all inside the tiny presets' 1024-token vocabulary. */
    private static final int[] IDS = {1, 5, 9, 100, 305, 310, 512, 7, 1000, 42, 77, 900};
    private static final long SEED = 7;

    /**
     * Vector against scalar forward, whole model. The weights are the same bytes on both sides; only
     * the summation (float FMA in lane order vs double) differs, a few float ulps per matmul.
     * Measured over 2 layers of the tiny presets, 12 tokens: max |diff| 1.2e-6 to 1.8e-6 for F32,
     * F16, Q8_0 and Q4_0 alike (Q4_K/Q6_K are not in the matrix: tiny rows of 64 and 192 are not
     * whole 256-blocks, so the generator writes Q8_0 for them). 2e-5 is a 10x margin.
     */
    private static final float VECTOR_TOLERANCE = 2e-5f;
    /**
     * GGUF vs safetensors F32 of the same weights: the same products, Q/K rows permuted for
     * interleaved RoPE in the GGUF llama file. Measured 8.7e-7 (tiny), 0 (tiny-qwen2).
     */
    private static final float FORMAT_TOLERANCE = 1e-4f;

    @TempDir
    static Path dir;

    static Stream<Arguments> presetsAndTypes() {
        return Stream.of(ModelPreset.TINY, ModelPreset.TINY_QWEN2, ModelPreset.TINY_SPM)
                .flatMap(p -> Stream.of(WeightType.F32, WeightType.F16, WeightType.Q8_0, WeightType.Q4_0)
                        .map(t -> Arguments.of(p, t)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("presetsAndTypes")
    void forward_vectorOps_matchesScalarReference(ModelPreset preset, WeightType type) throws IOException {
        Path file = gguf(preset, type);
        float[] reference = logits(file, new ScalarTensorOps(), IDS.length);
        float[] fast;
        try (VectorTensorOps ops = new VectorTensorOps(2)) {
            fast = logits(file, ops, IDS.length);
        }
        int vocab = preset.vocabSize();
        System.out.printf("vector vs scalar %s %s: max|diff| %.3g%n", preset.name(), type, maxAbsDiff(reference, fast));
        assertThat(maxAbsDiff(reference, fast)).isLessThan(VECTOR_TOLERANCE);
        for (int t = 0; t < IDS.length; t++) {
            int best = argmax(reference, t * vocab, vocab);
            if (topTwoMargin(reference, t * vocab, vocab) > 2 * VECTOR_TOLERANCE) {
                assertThat(argmax(fast, t * vocab, vocab)).as("argmax of row %d", t).isEqualTo(best);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.kvserve.engine.model.TestModels#llamaAndQwen2")
    void forward_ggufAndSafetensorsOfSameWeights_giveSameLogits(ModelPreset preset) throws IOException {
        Path gguf = gguf(preset, WeightType.F32);
        Path hf = dir.resolve(preset.name() + "-hf-f32");
        if (!Files.exists(hf)) {
            new ModelGenerator(preset, SEED).writeHuggingFace(hf, WeightType.F32);
        }
        try (ModelFile g = ModelFile.open(gguf); ModelFile h = ModelFile.open(hf)) {
            assertThat(h.config().ropeLayout()).isEqualTo(RopeLayout.NEOX_HALVES);
            if (preset == ModelPreset.TINY) {
                assertThat(g.config().ropeLayout()).isEqualTo(RopeLayout.INTERLEAVED_PAIRS);
            }
        }
        float[] fromGguf = logits(gguf, new ScalarTensorOps(), IDS.length);
        float[] fromHf = logits(hf, new ScalarTensorOps(), IDS.length);
        System.out.printf("gguf vs safetensors %s: max|diff| %.3g%n", preset.name(), maxAbsDiff(fromGguf, fromHf));
        assertThat(maxAbsDiff(fromGguf, fromHf)).isLessThan(FORMAT_TOLERANCE);
        assertThat(maxAbs(fromGguf)).as("logits are not trivially zero").isGreaterThan(0.1f);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.kvserve.engine.model.TestModels#llamaAndQwen2")
    void forward_tokenByToken_matchesOnePrefillCall(ModelPreset preset) throws IOException {
        Path file = gguf(preset, WeightType.Q8_0);
        int vocab = preset.vocabSize();
        try (ModelFile model = ModelFile.open(file); LlamaWeights weights = LlamaWeights.load(model);
             VectorTensorOps ops = new VectorTensorOps(1)) {
            float[] prefill = new float[IDS.length * vocab];
            new LlamaModel(weights, ops, 32, 16).forward(IDS, IDS.length, 0, prefill);

            LlamaModel stepwise = new LlamaModel(weights, ops, 32, 16);
            float[] row = new float[vocab];
            float worst = 0;
            for (int t = 0; t < IDS.length; t++) {
                stepwise.forward(new int[] {IDS[t]}, 1, t, row);
                for (int i = 0; i < vocab; i++) {
                    worst = Math.max(worst, Math.abs(row[i] - prefill[t * vocab + i]));
                }
            }
            // decode (1 token) and prefill (4-token tiles) take different kernel paths: float sums in another order
            assertThat(worst).isLessThan(1e-4f);

            LlamaModel lastOnly = new LlamaModel(weights, ops, 32, 16);
            float[] last = new float[vocab];
            lastOnly.forwardLast(IDS, 5, 0, last);
            lastOnly.forwardLast(IDS, IDS.length - 5, 5, last); // ids 5.. are not IDS[5..]: fed from index 0
            float[] reference = new float[IDS.length * vocab];
            int[] fed = new int[IDS.length];
            System.arraycopy(IDS, 0, fed, 0, 5);
            System.arraycopy(IDS, 0, fed, 5, IDS.length - 5);
            new LlamaModel(weights, ops, 32, 16).forward(fed, IDS.length, 0, reference);
            float diff = 0;
            for (int i = 0; i < vocab; i++) {
                diff = Math.max(diff, Math.abs(last[i] - reference[(IDS.length - 1) * vocab + i]));
            }
            assertThat(diff).isLessThan(1e-4f);
        }
    }

    @Test
    void forward_badInput_isRejectedWithAClearMessage() throws IOException {
        Path file = gguf(ModelPreset.TINY, WeightType.F32);
        try (ModelFile model = ModelFile.open(file); LlamaWeights weights = LlamaWeights.load(model)) {
            LlamaModel m = new LlamaModel(weights, new ScalarTensorOps(), 8, 8);
            float[] logits = new float[16 * 1024];
            assertThatThrownBy(() -> m.forward(new int[] {1, 1024}, 2, 0, logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id 1024")
                    .hasMessageContaining("0..1023");
            assertThatThrownBy(() -> m.forward(new int[] {1, -3}, 2, 0, logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id -3");
            assertThatThrownBy(() -> m.forward(new int[0], 0, 0, logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one token");
            assertThatThrownBy(() -> m.forward(new int[9], 9, 0, logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("9 tokens");
            assertThatThrownBy(() -> m.forward(new int[4], 4, 6, logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positions 6..9")
                    .hasMessageContaining("maxSeqLen 8");
            assertThatThrownBy(() -> m.forward(new int[4], 4, 0, new float[1024]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("logitsOut");
        }
    }

    @Test
    void load_missingTensor_namesIt() throws IOException {
        Path hf = dir.resolve("tiny-hf-missing");
        new ModelGenerator(ModelPreset.TINY, SEED).writeHuggingFace(hf, WeightType.F32);
        // rewrite the header with one tensor renamed: the loader must name the one it needs
        Path st = hf.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        int headerLength = (int) java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, headerLength, java.nio.charset.StandardCharsets.ISO_8859_1);
        String name = "model.layers.1.mlp.up_proj.weight";
        int at = header.indexOf(name);
        assertThat(at).isPositive();
        bytes[8 + at + name.length() - 8] = 'W'; // ".weight" -> ".Weight"
        Files.write(st, bytes);
        try (ModelFile model = ModelFile.open(hf)) {
            assertThatThrownBy(() -> LlamaWeights.load(model))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + name + "' is missing");
        }
    }

    @Test
    void load_shapeDisagreesWithConfig_namesTensorAndBothShapes() throws IOException {
        Path hf = dir.resolve("tiny-hf-wrong-shape");
        new ModelGenerator(ModelPreset.TINY, SEED).writeHuggingFace(hf, WeightType.F32);
        Path config = hf.resolve("config.json");
        String json = Files.readString(config);
        String edited = json.replaceFirst("\"intermediate_size\"\\s*:\\s*192", "\"intermediate_size\": 128");
        assertThat(edited).isNotEqualTo(json);
        Files.writeString(config, edited);
        try (ModelFile model = ModelFile.open(hf)) {
            assertThatThrownBy(() -> LlamaWeights.load(model))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'model.layers.0.mlp.gate_proj.weight'")
                    .hasMessageContaining("(192, 64)")
                    .hasMessageContaining("(128, 64)");
        }
    }

    private static Path gguf(ModelPreset preset, WeightType type) throws IOException {
        return TestModels.gguf(dir, preset, type, SEED);
    }

    /** (numTokens, vocab) teacher-forced logits of IDS in one prefill call. */
    private static float[] logits(Path file, TensorOps ops, int numTokens) throws IOException {
        try (ModelFile model = ModelFile.open(file); LlamaWeights weights = LlamaWeights.load(model)) {
            float[] out = new float[numTokens * model.config().vocabSize()];
            new LlamaModel(weights, ops, 64, 64).forward(IDS, numTokens, 0, out);
            return out;
        }
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        return TestModels.maxAbsDiff(a, b);
    }

    private static float maxAbs(float[] a) {
        float m = 0;
        for (float f : a) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }

    private static int argmax(float[] a, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[offset + i] > a[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    private static float topTwoMargin(float[] a, int offset, int n) {
        float first = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float f = a[offset + i];
            if (f > first) {
                second = first;
                first = f;
            } else if (f > second) {
                second = f;
            }
        }
        return first - second;
    }
}
