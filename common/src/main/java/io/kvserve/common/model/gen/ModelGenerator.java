package io.kvserve.common.model.gen;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgufWriter;
import io.kvserve.common.model.RopeScaling;
import io.kvserve.common.safetensors.SafetensorsDtype;
import io.kvserve.common.safetensors.SafetensorsWriter;
import io.kvserve.common.tokenizer.GgufTokenizerData;
import io.kvserve.common.tokenizer.SyntheticVocab;
import io.kvserve.common.tokenizer.TokenType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes random-weight models of real shapes, in the layouts real tools write them: GGUF as
 * llama.cpp's {@code convert_hf_to_gguf.py} does (tensor names, metadata keys, Q/K permutation for
 * {@code llama}, 1-D tensors in F32, {@code rope_freqs.weight} for llama3 scaling) and a Hugging Face
 * directory ({@code config.json}, {@code model.safetensors}, {@code tokenizer.json},
 * {@code tokenizer_config.json}). The same preset and seed give the same model in both formats.
 *
 * <p>Memory stays bounded: weights are produced one row at a time ({@link RandomWeights}), so a
 * 1.2B-parameter model is written with a few rows in memory.
 */
public final class ModelGenerator {

    /** GGUF weight types the generator writes (2-D tensors; 1-D tensors are always F32). */
    public enum WeightType {
        F32(GgmlType.F32, 0), F16(GgmlType.F16, 1), BF16(GgmlType.BF16, 32),
        Q8_0(GgmlType.Q8_0, 7), Q4_0(GgmlType.Q4_0, 2), Q4_K(GgmlType.Q4_K, 14), Q6_K(GgmlType.Q6_K, 18);

        final GgmlType ggmlType;
        /** llama.cpp's {@code general.file_type} ({@code LLAMA_FTYPE_*}). */
        final int fileType;

        WeightType(GgmlType ggmlType, int fileType) {
            this.ggmlType = ggmlType;
            this.fileType = fileType;
        }

        public GgmlType ggmlType() {
            return ggmlType;
        }

        public static WeightType parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown weight type '" + name + "'; known: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k");
            }
        }
    }

    private final ModelPreset preset;
    private final long seed;
    private final RandomWeights weights;
    /** The byte-level BPE vocabulary (null for SentencePiece presets, which have only {@link #ggufTokenizer}). */
    private final SyntheticVocab vocab;
    private final GgufTokenizerData ggufTokenizer;

    public ModelGenerator(ModelPreset preset, long seed) {
        this.preset = preset;
        this.seed = seed;
        this.weights = new RandomWeights(seed);
        if (preset.tokenizerFamily() == ModelPreset.TokenizerFamily.LLAMA_SPM) {
            this.vocab = null;
            this.ggufTokenizer = SyntheticVocab.generateSentencePiece(preset.vocabSize(), seed);
        } else {
            this.vocab = SyntheticVocab.generate(vocabFamily(preset), seed);
            this.ggufTokenizer = vocab.toGguf();
        }
        if (ggufTokenizer.tokens().size() > preset.vocabSize()) {
            throw new IllegalStateException(preset.name() + ": tokenizer has " + ggufTokenizer.tokens().size()
                    + " tokens but the embedding only " + preset.vocabSize() + " rows");
        }
    }

    public ModelPreset preset() {
        return preset;
    }

    /** The tokenizer as the GGUF file stores it (before padding to the embedding rows). */
    public GgufTokenizerData ggufTokenizer() {
        return ggufTokenizer;
    }

    /**
     * The type a tensor is stored in: F32 for 1-D tensors; for 2-D ones the requested type when
     * their rows split into whole blocks, else Q8_0 (rows a multiple of 32) or F16. llama.cpp's
     * quantizer also falls back for such rows, to Q8_0 from Q6_K but to Q5_0 from Q4_K; Q5_0 is not
     * written here.
     */
    static GgmlType storageType(WeightType requested, GeneratedTensor tensor) {
        if (tensor.isVector()) {
            return GgmlType.F32;
        }
        GgmlType type = requested.ggmlType;
        if (tensor.rowLength() % type.blockSize() == 0) {
            return type;
        }
        return tensor.rowLength() % GgmlType.Q8_0.blockSize() == 0 && type != GgmlType.F32 ? GgmlType.Q8_0 : GgmlType.F16;
    }

    /** Writes a GGUF file. */
    public void writeGguf(Path file, WeightType type) throws IOException {
        String arch = preset.architecture();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", arch);
        w.putString("general.type", "model");
        w.putString("general.name", "kvserve random " + preset.name() + " seed " + seed);
        w.putUint32(arch + ".block_count", preset.numLayers());
        w.putUint32(arch + ".context_length", preset.contextLength());
        w.putUint32(arch + ".embedding_length", preset.dim());
        w.putUint32(arch + ".feed_forward_length", preset.hiddenDim());
        w.putUint32(arch + ".attention.head_count", preset.numHeads());
        w.putUint32(arch + ".attention.head_count_kv", preset.numKvHeads());
        w.putFloat32(arch + ".rope.freq_base", preset.ropeTheta());
        w.putFloat32(arch + ".attention.layer_norm_rms_epsilon", preset.rmsNormEps());
        if (preset.headDim() * preset.numHeads() != preset.dim()) {
            w.putUint32(arch + ".attention.key_length", preset.headDim());
            w.putUint32(arch + ".attention.value_length", preset.headDim());
        }
        w.putUint32("general.file_type", type.fileType);
        w.putUint32(arch + ".vocab_size", preset.vocabSize());
        w.putUint32(arch + ".rope.dimension_count", preset.headDim());
        putTokenizer(w, paddedTokenizer());
        w.putUint32("general.quantization_version", 2);

        for (GeneratedTensor t : GeneratedTensor.of(preset)) {
            long[] ne = t.isVector() ? new long[] {t.rowLength()} : new long[] {t.rowLength(), t.numRows()};
            // llama.cpp's converter keeps 1-D tensors in F32, holding the checkpoint's f16/bf16 values
            // exactly; round them the same way, so this file and the safetensors of the same type agree.
            boolean roundToCheckpointType = t.isVector() && t.kind() != GeneratedTensor.Kind.ROPE_FREQS
                    && (type == WeightType.F16 || type == WeightType.BF16);
            w.addTensor(t.ggufName(), storageType(type, t), ne, (row, dst) -> {
                weights.fillGgufRow(t, Math.toIntExact(row), dst, preset);
                if (roundToCheckpointType) {
                    roundThrough(type, dst);
                }
            });
        }
        w.write(file);
    }

    private static void roundThrough(WeightType type, float[] values) {
        for (int i = 0; i < values.length; i++) {
            values[i] = type == WeightType.F16
                    ? GgmlQuants.f16ToF32(GgmlQuants.f32ToF16(values[i]))
                    : GgmlQuants.bf16ToF32(GgmlQuants.f32ToBf16(values[i]));
        }
    }

    /** Writes a Hugging Face model directory; {@code dtype} is F32, F16 or BF16. */
    public void writeHuggingFace(Path dir, WeightType dtype) throws IOException {
        if (vocab == null) {
            throw new IllegalArgumentException(preset.name() + ": its SentencePiece tokenizer has no tokenizer.json writer; "
                    + "write it as gguf, or pick a byte-level BPE preset (" + ModelPreset.names() + ")");
        }
        SafetensorsDtype stDtype = switch (dtype) {
            case F32 -> SafetensorsDtype.F32;
            case F16 -> SafetensorsDtype.F16;
            case BF16 -> SafetensorsDtype.BF16;
            default -> throw new IllegalArgumentException("safetensors holds f32, f16 or bf16, not " + dtype.name().toLowerCase(Locale.ROOT));
        };
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter();
        w.putMetadata("format", "pt");
        for (GeneratedTensor t : GeneratedTensor.of(preset)) {
            if (t.hfName() == null) {
                continue;                                       // rope_freqs: HF keeps it in config.json
            }
            long[] shape = t.isVector() ? new long[] {t.rowLength()} : new long[] {t.numRows(), t.rowLength()};
            w.addTensor(t.hfName(), stDtype, shape, (row, dst) -> weights.fillHfRow(t, Math.toIntExact(row), dst, preset));
        }
        w.write(dir.resolve("model.safetensors"));
        JsonMapper json = JsonMapper.builder().build();
        try {
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), hfConfig(dtype));
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("generation_config.json").toFile(),
                    Map.of("bos_token_id", vocab.bosId(), "eos_token_id", vocab.eosId()));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        vocab.writeHuggingFace(dir);
    }

    private Map<String, Object> hfConfig(WeightType dtype) {
        boolean qwen2 = preset.architecture().equals("qwen2");
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"));
        c.put("model_type", preset.architecture());
        c.put("hidden_size", preset.dim());
        c.put("intermediate_size", preset.hiddenDim());
        c.put("num_hidden_layers", preset.numLayers());
        c.put("num_attention_heads", preset.numHeads());
        c.put("num_key_value_heads", preset.numKvHeads());
        c.put("head_dim", preset.headDim());
        c.put("vocab_size", preset.vocabSize());
        c.put("max_position_embeddings", preset.contextLength());
        c.put("rms_norm_eps", preset.rmsNormEps());
        c.put("rope_theta", preset.ropeTheta());
        if (preset.ropeScaling().type() == RopeScaling.Type.LLAMA3) {
            RopeScaling s = preset.ropeScaling();
            Map<String, Object> scaling = new LinkedHashMap<>();
            scaling.put("rope_type", "llama3");
            scaling.put("factor", s.factor());
            scaling.put("low_freq_factor", s.lowFreqFactor());
            scaling.put("high_freq_factor", s.highFreqFactor());
            scaling.put("original_max_position_embeddings", s.originalContextLength());
            c.put("rope_scaling", scaling);
        }
        c.put("tie_word_embeddings", preset.tiedEmbeddings());
        c.put("hidden_act", "silu");
        c.put("attention_bias", preset.qkvBias());
        c.put("bos_token_id", vocab.bosId());
        c.put("eos_token_id", vocab.eosId());
        c.put("torch_dtype", switch (dtype) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
        });
        return c;
    }

    /** The tokenizer as GGUF stores it: token list padded to the embedding rows, as llama.cpp's converter does. */
    private GgufTokenizerData paddedTokenizer() {
        GgufTokenizerData t = ggufTokenizer;
        int numTokens = t.tokens().size();
        if (numTokens == preset.vocabSize()) {
            return t;
        }
        List<String> tokens = new ArrayList<>(t.tokens());
        int[] types = Arrays.copyOf(t.tokenTypes(), preset.vocabSize());
        float[] scores = t.scores() == null ? null : Arrays.copyOf(t.scores(), preset.vocabSize());
        for (int id = numTokens; id < preset.vocabSize(); id++) {
            tokens.add("[PAD" + id + "]");
            types[id] = TokenType.UNUSED.ggufCode();            // as the converter marks padding
        }
        return new GgufTokenizerData(t.model(), t.pre(), tokens, scores, types, t.merges(), t.bosId(), t.eosId(),
                t.unknownId(), t.paddingId(), t.addBos(), t.addEos(), t.addSpacePrefix(), t.chatTemplate());
    }

    private static void putTokenizer(GgufWriter w, GgufTokenizerData t) {
        w.putString("tokenizer.ggml.model", t.model());
        if (t.pre() != null) {
            w.putString("tokenizer.ggml.pre", t.pre());
        }
        w.putStringArray("tokenizer.ggml.tokens", t.tokens());
        if (t.scores() != null) {
            w.putFloat32Array("tokenizer.ggml.scores", t.scores());
        }
        if (t.tokenTypes() != null) {
            w.putInt32Array("tokenizer.ggml.token_type", t.tokenTypes());
        }
        if (t.merges() != null) {
            w.putStringArray("tokenizer.ggml.merges", t.merges());
        }
        t.bosId().ifPresent(id -> w.putUint32("tokenizer.ggml.bos_token_id", id));
        t.eosId().ifPresent(id -> w.putUint32("tokenizer.ggml.eos_token_id", id));
        t.unknownId().ifPresent(id -> w.putUint32("tokenizer.ggml.unknown_token_id", id));
        t.paddingId().ifPresent(id -> w.putUint32("tokenizer.ggml.padding_token_id", id));
        if (t.addBos() != null) {
            w.putBool("tokenizer.ggml.add_bos_token", t.addBos());
        }
        if (t.addEos() != null) {
            w.putBool("tokenizer.ggml.add_eos_token", t.addEos());
        }
        if (t.addSpacePrefix() != null) {
            w.putBool("tokenizer.ggml.add_space_prefix", t.addSpacePrefix());
        }
        if (t.chatTemplate() != null) {
            w.putString("tokenizer.chat_template", t.chatTemplate());
        }
    }

    private static SyntheticVocab.Family vocabFamily(ModelPreset preset) {
        return switch (preset.tokenizerFamily()) {
            case LLAMA3 -> SyntheticVocab.Family.LLAMA3;
            case QWEN2 -> SyntheticVocab.Family.QWEN2;
            case SMOLLM2 -> SyntheticVocab.Family.SMOLLM2;
            case TINY_BPE -> SyntheticVocab.Family.TINY;
            case LLAMA_SPM -> throw new IllegalArgumentException(preset.name() + " has a SentencePiece vocabulary");
        };
    }
}
