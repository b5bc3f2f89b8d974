package io.kvserve.common.model;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufTensorInfo;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import tools.jackson.databind.JsonNode;

/**
 * Hyper-parameters of a Llama-family decoder, read from GGUF metadata or an HF {@code config.json}.
 * Field names follow llama3.java / llama.cpp.
 *
 * @param architecture    model family
 * @param dim             embedding length (hidden size)
 * @param hiddenDim       feed-forward length (intermediate size)
 * @param numLayers       transformer blocks
 * @param numHeads        query heads
 * @param numKvHeads      key/value heads (grouped-query attention when fewer than numHeads)
 * @param headDim         elements per head (usually dim / numHeads)
 * @param vocabSize       tokens in the vocabulary (rows of the embedding table)
 * @param contextLength   maximum positions the model was configured for
 * @param rmsNormEps      RMSNorm epsilon
 * @param ropeTheta       RoPE frequency base
 * @param ropeScaling     context-extension scaling of RoPE frequencies
 * @param ropeFreqFactors per-pair frequency divisors read from GGUF {@code rope_freqs.weight}, length
 *                        headDim/2, or null; see {@link #ropeFrequencyDivisors()}
 * @param tiedEmbeddings  the output projection reuses the token embedding (no separate output weight)
 * @param qkvBias         Q, K and V projections have biases (qwen2)
 * @param ropeLayout      which elements RoPE rotates together, a property of the weight file
 */
public record ModelConfig(
        Architecture architecture,
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
        float[] ropeFreqFactors,
        boolean tiedEmbeddings,
        boolean qkvBias,
        RopeLayout ropeLayout) {

    /** Name of the GGUF tensor holding llama3 rope frequency divisors. */
    public static final String ROPE_FREQS_TENSOR = "rope_freqs.weight";


    public ModelConfig {
        if (architecture == null || ropeScaling == null || ropeLayout == null) {
            throw new IllegalArgumentException("architecture, ropeScaling and ropeLayout are required");
        }
        requirePositive("dim", dim);
        requirePositive("hiddenDim", hiddenDim);
        requirePositive("numLayers", numLayers);
        requirePositive("numHeads", numHeads);
        requirePositive("numKvHeads", numKvHeads);
        requirePositive("headDim", headDim);
        requirePositive("vocabSize", vocabSize);
        requirePositive("contextLength", contextLength);
        if (numKvHeads > numHeads || numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("numHeads " + numHeads + " is not a multiple of numKvHeads " + numKvHeads
                    + ": each KV head must serve the same number of query heads; check num_key_value_heads"
                    + " / attention.head_count_kv");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim " + headDim + " is odd; RoPE rotates pairs, so it must be even");
        }
        if (!(rmsNormEps > 0) || !(rmsNormEps < 1)) {
            throw new IllegalArgumentException("rmsNormEps " + rmsNormEps + " must be in (0, 1); typical values are 1e-5 or 1e-6");
        }
        if (!(ropeTheta > 0) || !Float.isFinite(ropeTheta)) {
            throw new IllegalArgumentException("ropeTheta " + ropeTheta + " must be positive; llama uses 10000 or 500000");
        }
        if (ropeFreqFactors != null) {
            if (ropeFreqFactors.length != headDim / 2) {
                throw new IllegalArgumentException("ropeFreqFactors has " + ropeFreqFactors.length
                        + " entries but headDim " + headDim + " needs headDim/2 = " + headDim / 2);
            }
            ropeFreqFactors = ropeFreqFactors.clone();
        } else if (!ropeScaling.isComputable()) {
            throw new IllegalArgumentException("llama3 rope scaling without its parameters needs ropeFreqFactors");
        }
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    /** Query heads per KV head. */
    public int numQueriesPerKvHead() {
        return numHeads / numKvHeads;
    }

    /** Elements of one token's K (or V) across all KV heads. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    @Override
    public float[] ropeFreqFactors() {
        return ropeFreqFactors == null ? null : ropeFreqFactors.clone();
    }

    /**
     * The divisor of each RoPE pair's base frequency {@code ropeTheta^(-2i/headDim)}, length
     * headDim/2: the file's {@code rope_freqs.weight} when present, else computed from
     * {@link #ropeScaling()} (all 1 without scaling).
     */
    public float[] ropeFrequencyDivisors() {
        return ropeFreqFactors != null ? ropeFreqFactors.clone() : ropeScaling.frequencyDivisors(headDim, ropeTheta);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig c && architecture == c.architecture && dim == c.dim && hiddenDim == c.hiddenDim
                && numLayers == c.numLayers && numHeads == c.numHeads && numKvHeads == c.numKvHeads
                && headDim == c.headDim && vocabSize == c.vocabSize && contextLength == c.contextLength
                && Float.compare(rmsNormEps, c.rmsNormEps) == 0 && Float.compare(ropeTheta, c.ropeTheta) == 0
                && ropeScaling.equals(c.ropeScaling) && Arrays.equals(ropeFreqFactors, c.ropeFreqFactors)
                && tiedEmbeddings == c.tiedEmbeddings && qkvBias == c.qkvBias && ropeLayout == c.ropeLayout;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(architecture, dim, hiddenDim, numLayers, numHeads, numKvHeads, headDim, vocabSize,
                contextLength);
    }

    @Override
    public String toString() {
        return "ModelConfig[" + architecture + " dim=" + dim + " hiddenDim=" + hiddenDim + " numLayers=" + numLayers
                + " numHeads=" + numHeads + " numKvHeads=" + numKvHeads + " headDim=" + headDim + " vocabSize=" + vocabSize
                + " contextLength=" + contextLength + " rmsNormEps=" + rmsNormEps + " ropeTheta=" + ropeTheta
                + " ropeScaling=" + ropeScaling + " ropeFreqFactors=" + Arrays.toString(ropeFreqFactors)
                + " tiedEmbeddings=" + tiedEmbeddings + " qkvBias=" + qkvBias + " ropeLayout=" + ropeLayout + "]";
    }

    // ------------------------------------------------------------------ GGUF

    /**
     * Reads llama.cpp's metadata keys ({@code general.architecture}, then {@code {arch}.context_length},
     * {@code .embedding_length}, {@code .block_count}, {@code .feed_forward_length},
     * {@code .attention.head_count}, {@code .attention.head_count_kv} (default head_count),
     * {@code .attention.key_length} (default dim/heads), {@code .attention.layer_norm_rms_epsilon}
     * (default 1e-5), {@code .rope.freq_base} (default 10000), {@code .rope.dimension_count} (must equal
     * headDim), {@code .rope.scaling.type/.factor/.original_context_length}, {@code .vocab_size} or the
     * length of {@code tokenizer.ggml.tokens} or token_embd.weight's ne1) and tensors (tied when there
     * is no {@code output.weight}; Q/K/V bias when {@code blk.0.attn_q.bias} exists or for qwen2;
     * llama3 scaling when {@code rope_freqs.weight} exists).
     *
     * @throws IllegalArgumentException naming the file and key when something is missing or invalid
     */
    public static ModelConfig fromGguf(GgufFile gguf) {
        String archName = gguf.string("general.architecture")
                .orElseThrow(() -> new IllegalArgumentException(gguf.path() + ": no general.architecture string"));
        Architecture arch = Architecture.fromFileName(archName).orElseThrow(() -> new IllegalArgumentException(
                gguf.path() + ": architecture '" + archName + "' is not supported; supported: llama, qwen2, mistral"));
        String p = archName + ".";
        int dim = requiredInt(gguf, p + "embedding_length");
        int numHeads = requiredInt(gguf, p + "attention.head_count");
        int numKvHeads = optionalInt(gguf, p + "attention.head_count_kv").orElse(numHeads);
        if (numHeads <= 0) {
            throw new IllegalArgumentException(gguf.path() + ": " + p + "attention.head_count = " + numHeads);
        }
        int headDim = optionalInt(gguf, p + "attention.key_length").orElse(dim / numHeads);
        Optional<Integer> ropeDims = optionalInt(gguf, p + "rope.dimension_count");
        if (ropeDims.isPresent() && ropeDims.get() != headDim) {
            throw new IllegalArgumentException(gguf.path() + ": " + p + "rope.dimension_count = " + ropeDims.get()
                    + " but headDim = " + headDim + "; partial rotary embeddings are not supported");
        }
        int vocabSize = optionalInt(gguf, p + "vocab_size").orElseGet(() -> {
            int numTokens = gguf.array("tokenizer.ggml.tokens").map(a -> a.size()).orElse(0);
            if (numTokens > 0) {
                return numTokens;
            }
            return gguf.tensor("token_embd.weight").filter(t -> t.numDims() == 2).map(t -> (int) t.ne()[1])
                    .orElseThrow(() -> new IllegalArgumentException(gguf.path() + ": no " + p
                            + "vocab_size, tokenizer.ggml.tokens or token_embd.weight to give the vocabulary size"));
        });

        float ropeTheta = gguf.float32(p + "rope.freq_base").orElse(10000f);
        float[] freqFactors = null;
        RopeScaling scaling = RopeScaling.NONE;
        String scalingType = gguf.string(p + "rope.scaling.type").orElse("none").toLowerCase(Locale.ROOT);
        float scalingFactor = gguf.float32(p + "rope.scaling.factor").or(() -> gguf.float32(p + "rope.scale_linear")).orElse(1f);
        switch (scalingType) {
            case "none" -> {
                if (gguf.string(p + "rope.scaling.type").isEmpty() && gguf.float32(p + "rope.scale_linear").isPresent()
                        && scalingFactor != 1f) {
                    scaling = RopeScaling.linear(scalingFactor);
                }
            }
            case "linear" -> scaling = RopeScaling.linear(scalingFactor);
            default -> throw new IllegalArgumentException(gguf.path() + ": " + p + "rope.scaling.type '" + scalingType
                    + "' is not supported; supported: none, linear (llama3 comes as the rope_freqs.weight tensor)");
        }
        Optional<GgufTensorInfo> ropeFreqs = gguf.tensor(ROPE_FREQS_TENSOR);
        if (ropeFreqs.isPresent()) {
            GgufTensorInfo t = ropeFreqs.get();
            if (t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16) {
                throw new IllegalArgumentException(gguf.path() + ": " + ROPE_FREQS_TENSOR + " has type " + t.type()
                        + "; expected F32");
            }
            if (t.numElements() != headDim / 2) {
                throw new IllegalArgumentException(gguf.path() + ": " + ROPE_FREQS_TENSOR + " has " + t.numElements()
                        + " elements; headDim " + headDim + " needs " + headDim / 2);
            }
            freqFactors = gguf.dequantizeAll(ROPE_FREQS_TENSOR);
            float maxFactor = 1f;
            for (float f : freqFactors) {
                if (!(f > 0) || !Float.isFinite(f)) {
                    throw new IllegalArgumentException(gguf.path() + ": " + ROPE_FREQS_TENSOR + " holds " + f
                            + "; frequency divisors must be positive");
                }
                maxFactor = Math.max(maxFactor, f);
            }
            if (scaling.type() == RopeScaling.Type.NONE) {
                scaling = new RopeScaling(RopeScaling.Type.LLAMA3, maxFactor, 0f, 0f, 0);
            }
        }
        boolean tied = gguf.tensor("output.weight").isEmpty();
        boolean qkvBias = arch == Architecture.QWEN2 || gguf.tensor("blk.0.attn_q.bias").isPresent();
        RopeLayout layout = arch == Architecture.QWEN2 ? RopeLayout.NEOX_HALVES : RopeLayout.INTERLEAVED_PAIRS;
        try {
            return new ModelConfig(arch, dim, requiredInt(gguf, p + "feed_forward_length"), requiredInt(gguf, p + "block_count"),
                    numHeads, numKvHeads, headDim, vocabSize, requiredInt(gguf, p + "context_length"),
                    gguf.float32(p + "attention.layer_norm_rms_epsilon").orElse(1e-5f), ropeTheta, scaling, freqFactors,
                    tied, qkvBias, layout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(gguf.path() + ": " + e.getMessage(), e);
        }
    }

    private static int requiredInt(GgufFile gguf, String key) {
        return optionalInt(gguf, key).orElseThrow(() -> new IllegalArgumentException(gguf.path() + ": missing integer "
                + key));
    }

    private static Optional<Integer> optionalInt(GgufFile gguf, String key) {
        OptionalLong v = gguf.integer(key);
        if (v.isEmpty()) {
            if (gguf.value(key).isPresent()) {
                throw new IllegalArgumentException(gguf.path() + ": " + key + " has type " + gguf.value(key).get().type()
                        + ", expected an integer");
            }
            return Optional.empty();
        }
        if (v.getAsLong() < 0 || v.getAsLong() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(gguf.path() + ": " + key + " = " + v.getAsLong() + " is out of range");
        }
        return Optional.of((int) v.getAsLong());
    }

    // ------------------------------------------------------------------ HF config.json

    /**
     * Reads an HF {@code config.json}: {@code model_type}, {@code hidden_size},
     * {@code intermediate_size}, {@code num_hidden_layers}, {@code num_attention_heads},
     * {@code num_key_value_heads} (default heads), {@code head_dim} (default hidden/heads),
     * {@code vocab_size}, {@code max_position_embeddings}, {@code rms_norm_eps} (default 1e-6),
     * {@code rope_theta} (default 10000), {@code rope_scaling} (or transformers 5's
     * {@code rope_parameters}: rope_type default|linear|llama3), {@code tie_word_embeddings} (default
     * false), {@code attention_bias}. HF weights rotate halves, so the layout is NeoX for every family.
     *
     * @throws IllegalArgumentException naming the field when one is missing or invalid
     */
    public static ModelConfig fromHfConfig(JsonNode config) {
        if (config == null || !config.isObject()) {
            throw new IllegalArgumentException("config.json is not a JSON object");
        }
        String modelType = text(config, "model_type")
                .orElseThrow(() -> new IllegalArgumentException("config.json has no \"model_type\""));
        Architecture arch = Architecture.fromFileName(modelType).orElseThrow(() -> new IllegalArgumentException(
                "model_type '" + modelType + "' is not supported; supported: llama, qwen2, mistral"));
        int dim = requiredInt(config, "hidden_size");
        int numHeads = requiredInt(config, "num_attention_heads");
        int numKvHeads = intField(config, "num_key_value_heads").orElse(numHeads);
        int headDim = intField(config, "head_dim").orElse(numHeads > 0 ? dim / numHeads : 0);
        JsonNode ropeNode = present(config, "rope_scaling").or(() -> present(config, "rope_parameters")).orElse(null);
        float ropeTheta = floatField(config, "rope_theta")
                .or(() -> ropeNode == null ? Optional.empty() : floatField(ropeNode, "rope_theta"))
                .orElse(10000f);
        RopeScaling scaling = RopeScaling.NONE;
        if (ropeNode != null) {
            String type = text(ropeNode, "rope_type").or(() -> text(ropeNode, "type")).orElse("default");
            switch (type) {
                case "default" -> {
                }
                case "linear" -> scaling = RopeScaling.linear(requiredFloat(ropeNode, "rope_scaling.factor", "factor"));
                case "llama3" -> scaling = RopeScaling.llama3(
                        requiredFloat(ropeNode, "rope_scaling.factor", "factor"),
                        floatField(ropeNode, "low_freq_factor").orElse(1f),
                        floatField(ropeNode, "high_freq_factor").orElse(4f),
                        intField(ropeNode, "original_max_position_embeddings").orElse(8192));
                default -> throw new IllegalArgumentException("rope_scaling type '" + type
                        + "' is not supported; supported: default, linear, llama3");
            }
        }
        boolean qkvBias = arch == Architecture.QWEN2 || present(config, "attention_bias").map(JsonNode::asBoolean).orElse(false);
        return new ModelConfig(arch, dim, requiredInt(config, "intermediate_size"), requiredInt(config, "num_hidden_layers"),
                numHeads, numKvHeads, headDim, requiredInt(config, "vocab_size"), requiredInt(config, "max_position_embeddings"),
                floatField(config, "rms_norm_eps").orElse(1e-6f), ropeTheta, scaling, null,
                present(config, "tie_word_embeddings").map(JsonNode::asBoolean).orElse(false), qkvBias,
                RopeLayout.NEOX_HALVES);
    }

    private static Optional<JsonNode> present(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v);
    }

    private static Optional<String> text(JsonNode node, String field) {
        return present(node, field).filter(JsonNode::isString).map(JsonNode::stringValue);
    }

    private static Optional<Integer> intField(JsonNode node, String field) {
        Optional<JsonNode> v = present(node, field);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        if (!v.get().isIntegralNumber() || !v.get().canConvertToInt()) {
            throw new IllegalArgumentException("\"" + field + "\" = " + v.get() + " is not an int");
        }
        return Optional.of(v.get().intValue());
    }

    private static int requiredInt(JsonNode node, String field) {
        return intField(node, field).orElseThrow(() -> new IllegalArgumentException("config.json has no \"" + field + "\""));
    }

    private static Optional<Float> floatField(JsonNode node, String field) {
        Optional<JsonNode> v = present(node, field);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        if (!v.get().isNumber()) {
            throw new IllegalArgumentException("\"" + field + "\" = " + v.get() + " is not a number");
        }
        return Optional.of(v.get().floatValue());
    }

    private static float requiredFloat(JsonNode node, String what, String field) {
        return floatField(node, field).orElseThrow(() -> new IllegalArgumentException("config.json has no " + what));
    }
}
