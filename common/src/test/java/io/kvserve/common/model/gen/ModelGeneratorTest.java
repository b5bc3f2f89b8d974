package io.kvserve.common.model.gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufTensorInfo;
import io.kvserve.common.model.Architecture;
import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.common.safetensors.HfModelDirectory;
import io.kvserve.common.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModelGeneratorTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(ModelGenerator.WeightType.class)
    void writeGguf_eachType_readsBackAsThePresetWithItsTokenizer(ModelGenerator.WeightType type) throws Exception {
        Path file = dir.resolve("tiny.gguf");
        new ModelGenerator(ModelPreset.TINY, 7).writeGguf(file, type);

        try (ModelFile model = ModelFile.open(file)) {
            ModelConfig c = model.config();
            ModelPreset p = ModelPreset.TINY;
            assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
            assertThat(new int[] {c.dim(), c.hiddenDim(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.vocabSize()})
                    .containsExactly(p.dim(), p.hiddenDim(), p.numLayers(), p.numHeads(), p.numKvHeads(), p.headDim(), p.vocabSize());
            assertThat(c.ropeLayout()).isEqualTo(RopeLayout.INTERLEAVED_PAIRS);
            assertThat(c.tiedEmbeddings()).isFalse();

            GgufFile gguf = model.gguf().orElseThrow();
            assertThat(gguf.integer("general.file_type").orElseThrow()).isEqualTo(type.fileType);
            assertThat(gguf.tensors()).hasSize(GeneratedTensor.of(p).size());
            for (GgufTensorInfo t : gguf.tensors().values()) {
                GgmlType expected = t.ne().length == 1 ? GgmlType.F32
                        : t.rowLength() % type.ggmlType().blockSize() == 0 ? type.ggmlType() : GgmlType.Q8_0;
                assertThat(t.type()).as(t.name()).isEqualTo(expected);
            }

            Tokenizer tokenizer = model.tokenizer().tokenizer();
            assertThat(tokenizer.vocabSize()).isEqualTo(p.vocabSize());
            String text = "Generated models carry a working tokenizer: 123 ünïcödé 🙂";
            assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);
            assertThat(model.tokenizer().chatTemplate()).isPresent();
        }
    }

    /**
     * The real shapes, written as Q4_0 (the smallest type: 80 MB to 700 MB) and read back: the
     * config is the preset's, the tokenizer has the family's special tokens, and a tensor's stored
     * blocks are bit for bit the quantization of the generator's rows.
     */
    @ParameterizedTest
    @ValueSource(strings = {"smollm2-135m", "qwen2.5-0.5b", "llama-3.2-1b"})
    void writeGguf_realPreset_readsBackBitExactly(String presetName) throws Exception {
        ModelPreset p = ModelPreset.byName(presetName);
        Path file = dir.resolve(presetName + ".gguf");
        new ModelGenerator(p, 1).writeGguf(file, ModelGenerator.WeightType.Q4_0);
        try (ModelFile model = ModelFile.open(file)) {
            ModelConfig c = model.config();
            assertThat(new int[] {c.dim(), c.hiddenDim(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.vocabSize(), c.contextLength()})
                    .containsExactly(p.dim(), p.hiddenDim(), p.numLayers(), p.numHeads(), p.numKvHeads(), p.headDim(), p.vocabSize(), p.contextLength());
            assertThat(c.tiedEmbeddings()).isEqualTo(p.tiedEmbeddings());
            assertThat(c.qkvBias()).isEqualTo(p.qkvBias());
            assertThat(c.ropeTheta()).isEqualTo(p.ropeTheta());

            Tokenizer tokenizer = model.tokenizer().tokenizer();
            String eos = tokenizer.tokenText(tokenizer.eosId().orElseThrow());
            switch (presetName) {
                case "smollm2-135m" -> assertThat(eos).isEqualTo("<|im_end|>");
                case "qwen2.5-0.5b" -> assertThat(eos).isIn("<|im_end|>", "<|endoftext|>");
                default -> assertThat(eos).isEqualTo("<|eot_id|>");
            }

            GgufFile gguf = model.gguf().orElseThrow();
            GeneratedTensor down = GeneratedTensor.of(p).stream()
                    .filter(t -> t.ggufName().equals("blk.0.ffn_down.weight")).findFirst().orElseThrow();
            GgufTensorInfo info = gguf.tensor(down.ggufName()).orElseThrow();
            RandomWeights weights = new RandomWeights(1);
            float[] row = new float[down.rowLength()];
            long rowBytes = info.numBytes() / down.numRows();
            for (int r : new int[] {0, 1, down.numRows() - 1}) {
                weights.fillGgufRow(down, r, row, p);
                byte[] expected = GgmlQuants.quantize(GgmlType.Q4_0, row);
                byte[] stored = gguf.data(info).asSlice(r * rowBytes, rowBytes).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                assertThat(stored).as("row " + r).containsExactly(expected);
            }
        }
    }

    @Test
    void writeGguf_sameSeed_sameBytes_otherSeed_otherWeights() throws Exception {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        Path c = dir.resolve("c.gguf");
        new ModelGenerator(ModelPreset.TINY, 3).writeGguf(a, ModelGenerator.WeightType.Q4_0);
        new ModelGenerator(ModelPreset.TINY, 3).writeGguf(b, ModelGenerator.WeightType.Q4_0);
        new ModelGenerator(ModelPreset.TINY, 4).writeGguf(c, ModelGenerator.WeightType.Q4_0);
        assertThat(Files.mismatch(a, b)).isEqualTo(-1L);
        try (GgufFile ga = GgufFile.open(a); GgufFile gc = GgufFile.open(c)) {
            assertThat(ga.dequantizeAll("blk.0.ffn_up.weight")).isNotEqualTo(gc.dequantizeAll("blk.0.ffn_up.weight"));
        }
    }

    /**
     * The promise that GGUF and safetensors from one seed are the same model: every GGUF tensor equals
     * the HF tensor, with Q and K rows of {@code llama} files reordered the way llama.cpp's converter
     * does it ({@code w.reshape(heads, 2, headDim/2, dim).swapaxes(1, 2)}), written here as that
     * reshape rather than through the generator's own index function.
     */
    @ParameterizedTest
    @CsvSource({"tiny, F32", "tiny, F16", "tiny, BF16", "tiny-qwen2, F32", "tiny-qwen2, F16", "tiny-qwen2, BF16"})
    void ggufAndSafetensors_sameSeed_holdTheSameWeights(String presetName, ModelGenerator.WeightType type) throws Exception {
        ModelPreset preset = ModelPreset.byName(presetName);
        Path gguf = dir.resolve("m.gguf");
        Path hfDir = dir.resolve("hf");
        ModelGenerator generator = new ModelGenerator(preset, 11);
        generator.writeGguf(gguf, type);
        generator.writeHuggingFace(hfDir, type);

        try (GgufFile g = GgufFile.open(gguf);
             HfModelDirectory.Weights hf = HfModelDirectory.open(hfDir).openWeights()) {
            for (GeneratedTensor t : GeneratedTensor.of(preset)) {
                float[] fromGguf = g.dequantizeAll(t.ggufName());
                float[] fromHf = hf.toFloatArray(t.hfName());
                boolean permuted = preset.architecture().equals("llama")
                        && (t.ggufName().endsWith("attn_q.weight") || t.ggufName().endsWith("attn_k.weight"));
                float[] expected = permuted ? llamaCppPermute(fromHf, t.numRows() / preset.headDim(), preset.headDim(), t.rowLength()) : fromHf;
                assertThat(fromGguf).as(t.ggufName()).containsExactly(expected);
            }
            assertThat(preset.architecture().equals("qwen2") || !Arrays.equals(
                    g.dequantizeAll("blk.0.attn_q.weight"), hf.toFloatArray("model.layers.0.self_attn.q_proj.weight")))
                    .as("llama Q rows are permuted, not copied").isTrue();
        }
        try (ModelFile a = ModelFile.open(gguf); ModelFile b = ModelFile.open(hfDir)) {
            assertThat(b.config().ropeLayout()).isEqualTo(RopeLayout.NEOX_HALVES);
            Tokenizer ta = a.tokenizer().tokenizer();
            Tokenizer tb = b.tokenizer().tokenizer();
            String text = "The same tokenizer in both formats, isn't it? 42";
            assertThat(ta.encode(text)).containsExactly(tb.encode(text));
        }
    }

    private static float[] llamaCppPermute(float[] w, int numHeads, int headDim, int rowLength) {
        float[] out = new float[w.length];
        int half = headDim / 2;
        int dst = 0;
        for (int h = 0; h < numHeads; h++) {
            for (int i = 0; i < half; i++) {          // after swapaxes: (head, i, j, col)
                for (int j = 0; j < 2; j++) {
                    int srcRow = h * headDim + j * half + i;
                    System.arraycopy(w, srcRow * rowLength, out, dst, rowLength);
                    dst += rowLength;
                }
            }
        }
        return out;
    }

    @Test
    void writeGguf_quantized_staysCloseToTheF32Weights() throws Exception {
        Path f32 = dir.resolve("f32.gguf");
        Path q8 = dir.resolve("q8.gguf");
        Path q4 = dir.resolve("q4.gguf");
        ModelGenerator generator = new ModelGenerator(ModelPreset.TINY, 5);
        generator.writeGguf(f32, ModelGenerator.WeightType.F32);
        generator.writeGguf(q8, ModelGenerator.WeightType.Q8_0);
        generator.writeGguf(q4, ModelGenerator.WeightType.Q4_0);
        try (GgufFile a = GgufFile.open(f32); GgufFile b = GgufFile.open(q8); GgufFile c = GgufFile.open(q4)) {
            float[] exact = a.dequantizeAll("blk.1.ffn_down.weight");
            float[] q8Values = b.dequantizeAll("blk.1.ffn_down.weight");
            float[] q4Values = c.dequantizeAll("blk.1.ffn_down.weight");
            float amax = 0;
            for (float v : exact) {
                amax = Math.max(amax, Math.abs(v));
            }
            for (int i = 0; i < exact.length; i++) {
                assertThat(q8Values[i]).isCloseTo(exact[i], within(amax / 127f));
                assertThat(q4Values[i]).isCloseTo(exact[i], within(amax / 7f));
            }
        }
    }

    @Test
    void llama32Preset_ropeFreqs_areLlamaCppsLlama3Divisors() {
        ModelPreset p = ModelPreset.LLAMA32_1B;
        GeneratedTensor ropeFreqs = GeneratedTensor.of(p).stream()
                .filter(t -> t.ggufName().equals("rope_freqs.weight")).findFirst().orElseThrow();
        float[] divisors = new float[ropeFreqs.rowLength()];
        new RandomWeights(0).fillGgufRow(ropeFreqs, 0, divisors, p);
        assertThat(divisors).hasSize(32);
        // Highest frequency (wavelength 2*pi) is left alone; the lowest (wavelength ~2e6) is stretched by the factor 32.
        assertThat(divisors[0]).isEqualTo(1f);
        assertThat(divisors[31]).isEqualTo(32f);
        for (int i = 1; i < divisors.length; i++) {
            assertThat(divisors[i]).isGreaterThanOrEqualTo(divisors[i - 1]);
        }
        // Between the two cut-offs (wavelengths 2048 and 8192) the blend is 1 / ((1 - s)/32 + s), s = (8192/wavelen - 1) / 3.
        int mid = -1;
        for (int i = 0; i < 32; i++) {
            double wavelen = 2 * Math.PI * Math.pow(500_000.0, 2.0 * i / 64);
            if (wavelen > 2048 && wavelen < 8192) {
                mid = i;
                double s = (8192 / wavelen - 1) / 3;
                assertThat(divisors[i]).isCloseTo((float) (1 / ((1 - s) / 32 + s)), within(1e-3f));
            }
        }
        assertThat(mid).as("some frequency lies between the cut-offs").isPositive();
    }

    @Test
    void presets_realShapes_haveTheirPublishedParameterCounts() {
        // Published sizes: SmolLM2-135M 134.5M, Qwen2.5-0.5B 494M, Llama-3.2-1B 1.24B (tied embeddings counted once).
        assertThat(ModelPreset.SMOLLM2_135M.numParameters()).isEqualTo(134_515_008L);
        assertThat(ModelPreset.QWEN25_05B.numParameters()).isEqualTo(494_032_768L);
        assertThat(ModelPreset.LLAMA32_1B.numParameters()).isEqualTo(1_235_814_400L);
    }

    @Test
    void writeHuggingFace_quantizedType_isRefusedWithTheAllowedTypes() {
        assertThatThrownBy(() -> new ModelGenerator(ModelPreset.TINY, 1).writeHuggingFace(dir.resolve("x"), ModelGenerator.WeightType.Q4_0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("f32, f16 or bf16");
    }

    @Test
    void byName_unknownPreset_listsTheKnownOnes() {
        assertThatThrownBy(() -> ModelPreset.byName("gpt-5"))
                .hasMessageContaining("gpt-5").hasMessageContaining("smollm2-135m").hasMessageContaining("llama-3.2-1b");
    }
}
