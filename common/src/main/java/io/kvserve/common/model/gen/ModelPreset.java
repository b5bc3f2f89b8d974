package io.kvserve.common.model.gen;

import io.kvserve.common.model.RopeScaling;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The shapes the generator can write: real models' dimensions (from their published
 * {@code config.json}), random weights. {@code tiny} is for tests.
 *
 * @param name              preset name as the command line takes it
 * @param architecture      GGUF {@code general.architecture}: {@code llama} or {@code qwen2}
 * @param tokenizerFamily   which synthetic tokenizer the model carries
 * @param dim               embedding length ({@code hidden_size})
 * @param hiddenDim         feed-forward length ({@code intermediate_size})
 * @param numLayers         transformer blocks
 * @param numHeads          attention heads
 * @param numKvHeads        key/value heads (GQA)
 * @param headDim           per-head dimension
 * @param vocabSize         rows of the embedding matrix
 * @param contextLength     trained context length
 * @param rmsNormEps        RMSNorm epsilon
 * @param ropeTheta         RoPE base frequency
 * @param ropeScaling       RoPE frequency scaling ({@link RopeScaling#NONE} for none)
 * @param tiedEmbeddings    the output head reuses the token embedding
 * @param qkvBias           Q, K and V projections have biases (qwen2)
 */
public record ModelPreset(
        String name,
        String architecture,
        TokenizerFamily tokenizerFamily,
        int dim,
        int hiddenDim,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int contextLength,
        float rmsNormEps,
        float ropeTheta,
        RopeScaling ropeScaling,
        boolean tiedEmbeddings,
        boolean qkvBias) {

    /** The tokenizer a preset embeds, in the style of the real model's. */
    public enum TokenizerFamily {
        LLAMA3, QWEN2, SMOLLM2,
        /** The 1024-token Llama 3-style byte-level BPE vocabulary, for test-sized models. */
        TINY_BPE,
        /** A SentencePiece vocabulary ({@code tokenizer.ggml.model = llama}) of the preset's size. */
        LLAMA_SPM
    }

    public ModelPreset {
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException(name + ": numHeads " + numHeads + " is not a multiple of numKvHeads " + numKvHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException(name + ": headDim " + headDim + " must be even for RoPE");
        }
    }

    /** Test-sized llama with a small byte-level BPE vocabulary; every dimension a multiple of 32. */
    public static final ModelPreset TINY = new ModelPreset("tiny", "llama", TokenizerFamily.TINY_BPE,
            64, 192, 2, 4, 2, 16, 1024, 2048, 1e-5f, 10_000f, RopeScaling.NONE, false, false);

    /** Test-sized qwen2 (QKV bias, NeoX RoPE, tied embeddings). */
    public static final ModelPreset TINY_QWEN2 = new ModelPreset("tiny-qwen2", "qwen2", TokenizerFamily.TINY_BPE,
            64, 192, 2, 4, 2, 16, 1024, 2048, 1e-6f, 1_000_000f, RopeScaling.NONE, true, true);

    /** Test-sized llama with a SentencePiece vocabulary ({@code tokenizer.ggml.model = llama}). */
    public static final ModelPreset TINY_SPM = new ModelPreset("tiny-spm", "llama", TokenizerFamily.LLAMA_SPM,
            64, 192, 2, 4, 4, 16, 1024, 2048, 1e-5f, 10_000f, RopeScaling.NONE, false, false);

    /** HuggingFaceTB/SmolLM2-135M. */
    public static final ModelPreset SMOLLM2_135M = new ModelPreset("smollm2-135m", "llama", TokenizerFamily.SMOLLM2,
            576, 1536, 30, 9, 3, 64, 49_152, 8192, 1e-5f, 100_000f, RopeScaling.NONE, true, false);

    /** Qwen/Qwen2.5-0.5B. */
    public static final ModelPreset QWEN25_05B = new ModelPreset("qwen2.5-0.5b", "qwen2", TokenizerFamily.QWEN2,
            896, 4864, 24, 14, 2, 64, 151_936, 32_768, 1e-6f, 1_000_000f, RopeScaling.NONE, true, true);

    /** meta-llama/Llama-3.2-1B. */
    public static final ModelPreset LLAMA32_1B = new ModelPreset("llama-3.2-1b", "llama", TokenizerFamily.LLAMA3,
            2048, 8192, 16, 32, 8, 64, 128_256, 131_072, 1e-5f, 500_000f,
            RopeScaling.llama3(32f, 1f, 4f, 8192), true, false);

    public static final List<ModelPreset> ALL = List.of(TINY, TINY_QWEN2, TINY_SPM, SMOLLM2_135M, QWEN25_05B, LLAMA32_1B);

    public static ModelPreset byName(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        return ALL.stream().filter(p -> p.name.equals(wanted)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown preset '" + name + "'; known presets: " + names()));
    }

    public static String names() {
        return ALL.stream().map(ModelPreset::name).collect(Collectors.joining(", "));
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Parameter count (embedding counted once when tied), as model cards quote it. */
    public long numParameters() {
        long perLayer = 2L * dim                                    // attention and ffn norms
                + (long) dim * qDim() + 2L * dim * kvDim() + (long) qDim() * dim
                + 3L * dim * hiddenDim
                + (qkvBias ? qDim() + 2L * kvDim() : 0);
        long embeddings = (long) vocabSize * dim * (tiedEmbeddings ? 1 : 2);
        return embeddings + dim + numLayers * perLayer;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(new int[] {dim, hiddenDim, numLayers, numHeads, numKvHeads, headDim, vocabSize});
    }
}
