package io.kvserve.engine.model;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.safetensors.HfModelDirectory;
import io.kvserve.common.safetensors.SafetensorsTensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Optional;

/**
 * The weights of a Llama-family decoder (llama, qwen2, mistral) as {@link WeightMatrix} views over
 * the mapped file, named as in llama.cpp / llama3.java. Projections are views (no copy, decoded by
 * the kernels as they stream); norms and biases are small and are decoded to float once.
 *
 * <p>GGUF and safetensors both store a projection as (out features) rows of (in features)
 * values, so one view type serves both: GGUF {@code ne = [in, out]}, PyTorch shape
 * {@code [out, in]}. What differs is the RoPE layout of wq/wk rows (GGUF llama rows are permuted
 * for interleaved pairs), which {@link ModelConfig#ropeLayout()} carries to the forward pass.
 *
 * <p>Valid while the {@link ModelFile} it was loaded from is open; {@link #close()} releases the
 * safetensors mappings it opened (a GGUF mapping belongs to the ModelFile).
 */
public final class LlamaWeights implements AutoCloseable {

    private final ModelConfig config;
    private final HfModelDirectory.Weights owned; // HF shard mappings opened here, or null

    public final WeightMatrix tokenEmbeddings; // (vocabSize, dim)
    public final float[][] attnNorm;           // (numLayers, dim)
    public final WeightMatrix[] wq;            // (numLayers) x (numHeads * headDim, dim)
    public final WeightMatrix[] wk;            // (numLayers) x (numKvHeads * headDim, dim)
    public final WeightMatrix[] wv;            // (numLayers) x (numKvHeads * headDim, dim)
    public final float[][] bq;                 // (numLayers, numHeads * headDim), null without qkvBias
    public final float[][] bk;                 // (numLayers, numKvHeads * headDim), null without qkvBias
    public final float[][] bv;                 // (numLayers, numKvHeads * headDim), null without qkvBias
    public final WeightMatrix[] wo;            // (numLayers) x (dim, numHeads * headDim)
    public final float[][] ffnNorm;            // (numLayers, dim)
    public final WeightMatrix[] w1;            // (numLayers) x (hiddenDim, dim): gate
    public final WeightMatrix[] w2;            // (numLayers) x (dim, hiddenDim): down
    public final WeightMatrix[] w3;            // (numLayers) x (hiddenDim, dim): up
    public final float[] outputNorm;           // (dim)
    public final WeightMatrix output;          // (vocabSize, dim): the embedding itself when tied

    /** One tensor as the file holds it: ggml type, dims fastest first (ggml's ne order), bytes. */
    private record RawTensor(String name, GgmlType type, long[] ne, MemorySegment data) {
    }

    /** Looks tensors up by name in one file format. */
    private interface TensorSource {
        Optional<RawTensor> find(String name);

        String describe();
    }

    /** Tensor names of one format. */
    private record Names(String tokenEmbeddings, String layerPrefix, String attnNorm, String wq, String wk, String wv,
                         String bq, String bk, String bv, String wo, String ffnNorm, String w1, String w2, String w3,
                         String outputNorm, String output) {
        static final Names GGUF = new Names("token_embd.weight", "blk.%d.", "attn_norm.weight",
                "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias",
                "attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_down.weight", "ffn_up.weight",
                "output_norm.weight", "output.weight");
        static final Names HF = new Names("model.embed_tokens.weight", "model.layers.%d.", "input_layernorm.weight",
                "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                "self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias",
                "self_attn.o_proj.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight",
                "mlp.down_proj.weight", "mlp.up_proj.weight", "model.norm.weight", "lm_head.weight");

        String layer(int l, String suffix) {
            return layerPrefix.formatted(l) + suffix;
        }
    }

    private final TensorSource source;

    private LlamaWeights(ModelConfig config, TensorSource source, Names names, HfModelDirectory.Weights owned) {
        this.config = config;
        this.source = source;
        this.owned = owned;
        int dim = config.dim();
        int qDim = config.numHeads() * config.headDim();
        int kvDim = config.kvDim();
        int hidden = config.hiddenDim();
        int numLayers = config.numLayers();
        tokenEmbeddings = matrix(names.tokenEmbeddings, config.vocabSize(), dim);
        attnNorm = new float[numLayers][];
        wq = new WeightMatrix[numLayers];
        wk = new WeightMatrix[numLayers];
        wv = new WeightMatrix[numLayers];
        bq = config.qkvBias() ? new float[numLayers][] : null;
        bk = config.qkvBias() ? new float[numLayers][] : null;
        bv = config.qkvBias() ? new float[numLayers][] : null;
        wo = new WeightMatrix[numLayers];
        ffnNorm = new float[numLayers][];
        w1 = new WeightMatrix[numLayers];
        w2 = new WeightMatrix[numLayers];
        w3 = new WeightMatrix[numLayers];
        for (int l = 0; l < numLayers; l++) {
            attnNorm[l] = vector(names.layer(l, names.attnNorm), dim);
            wq[l] = matrix(names.layer(l, names.wq), qDim, dim);
            wk[l] = matrix(names.layer(l, names.wk), kvDim, dim);
            wv[l] = matrix(names.layer(l, names.wv), kvDim, dim);
            if (config.qkvBias()) {
                bq[l] = vector(names.layer(l, names.bq), qDim);
                bk[l] = vector(names.layer(l, names.bk), kvDim);
                bv[l] = vector(names.layer(l, names.bv), kvDim);
            }
            wo[l] = matrix(names.layer(l, names.wo), dim, qDim);
            ffnNorm[l] = vector(names.layer(l, names.ffnNorm), dim);
            w1[l] = matrix(names.layer(l, names.w1), hidden, dim);
            w2[l] = matrix(names.layer(l, names.w2), dim, hidden);
            w3[l] = matrix(names.layer(l, names.w3), hidden, dim);
        }
        outputNorm = vector(names.outputNorm, dim);
        if (source.find(names.output).isPresent()) {
            output = matrix(names.output, config.vocabSize(), dim);
        } else if (config.tiedEmbeddings()) {
            output = tokenEmbeddings;
        } else {
            throw new IllegalArgumentException(source.describe() + ": tensor '" + names.output
                    + "' is missing and the config does not tie the output to the embedding");
        }
    }

    /**
     * The weights of {@code model}, checked against its config: every tensor present, of the
     * expected shape and of a type the kernels read.
     *
     * @throws IllegalArgumentException naming the tensor that is missing or wrong
     */
    public static LlamaWeights load(ModelFile model) throws IOException {
        ModelConfig config = model.config();
        Optional<GgufFile> gguf = model.gguf();
        if (gguf.isPresent()) {
            GgufFile file = gguf.get();
            TensorSource source = new TensorSource() {
                @Override
                public Optional<RawTensor> find(String name) {
                    return file.tensor(name).map(t -> new RawTensor(name, t.type(), t.ne(), file.data(t)));
                }

                @Override
                public String describe() {
                    return file.path().toString();
                }
            };
            return new LlamaWeights(config, source, Names.GGUF, null);
        }
        HfModelDirectory hf = model.huggingFace().orElseThrow();
        HfModelDirectory.Weights weights = hf.openWeights();
        try {
            TensorSource source = new TensorSource() {
                @Override
                public Optional<RawTensor> find(String name) {
                    return weights.tensor(name).map(t -> new RawTensor(name, ggmlType(t), reversed(t.shape()),
                            weights.data(name)));
                }

                @Override
                public String describe() {
                    return hf.dir().toString();
                }
            };
            return new LlamaWeights(config, source, Names.HF, weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Weight bytes one decode step reads from memory: every matrix once (the output head included,
     * which is the embedding when tied), the embedding table not (one row per token), norms and
     * biases. The floor of decode time is this over the memory bandwidth.
     */
    public long bytesReadPerToken() {
        long bytes = bytes(output) + 4L * outputNorm.length;
        for (int l = 0; l < config.numLayers(); l++) {
            bytes += bytes(wq[l]) + bytes(wk[l]) + bytes(wv[l]) + bytes(wo[l]) + bytes(w1[l]) + bytes(w2[l]) + bytes(w3[l]);
            bytes += 4L * (attnNorm[l].length + ffnNorm[l].length);
            if (bq != null) {
                bytes += 4L * (bq[l].length + bk[l].length + bv[l].length);
            }
        }
        return bytes;
    }

    private static long bytes(WeightMatrix w) {
        return w.numRows() * w.rowBytes();
    }

    /** Decodes token {@code tokenId}'s embedding row (dim floats) into {@code dst[dstOffset..]}. */
    public void embedding(int tokenId, float[] dst, int dstOffset) {
        WeightMatrix e = tokenEmbeddings;
        GgmlQuants.dequantize(e.type(), e.data(), tokenId * e.rowBytes(), dst, dstOffset, e.rowLength());
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }

    private RawTensor require(String name) {
        return source.find(name).orElseThrow(() -> new IllegalArgumentException(source.describe() + ": tensor '" + name
                + "' is missing; a " + config.architecture() + " model of " + config.numLayers() + " layers needs it"));
    }

    private WeightMatrix matrix(String name, int numRows, int rowLength) {
        RawTensor t = require(name);
        long[] expected = {rowLength, numRows};
        if (!Arrays.equals(t.ne(), expected)) {
            throw new IllegalArgumentException(source.describe() + ": tensor '" + name + "' has shape (rows, rowLength) "
                    + shape(t.ne()) + ", the config needs (" + numRows + ", " + rowLength + ")");
        }
        if (t.type() == null || !t.type().isSupported()) {
            throw new IllegalArgumentException(source.describe() + ": tensor '" + name + "' has type "
                    + (t.type() == null ? "unsupported" : t.type()) + "; the kernels read F32, F16, BF16, Q8_0, Q4_0,"
                    + " Q4_K, Q6_K");
        }
        return new WeightMatrix(t.type(), numRows, rowLength, t.data());
    }

    private float[] vector(String name, int length) {
        RawTensor t = require(name);
        long numElements = 1;
        for (long d : t.ne()) {
            numElements *= d;
        }
        if (t.ne().length != 1 || numElements != length) {
            throw new IllegalArgumentException(source.describe() + ": tensor '" + name + "' has shape "
                    + Arrays.toString(t.ne()) + ", the config needs (" + length + ")");
        }
        if (t.type() == null || !t.type().isSupported()) {
            throw new IllegalArgumentException(source.describe() + ": tensor '" + name + "' has type "
                    + (t.type() == null ? "unsupported" : t.type()) + "; norms and biases must be F32, F16 or BF16");
        }
        float[] out = new float[length];
        GgmlQuants.dequantize(t.type(), t.data(), 0, out, 0, length);
        return out;
    }

    private static String shape(long[] ne) {
        if (ne.length == 2) {
            return "(" + ne[1] + ", " + ne[0] + ")";
        }
        return Arrays.toString(ne) + " (ggml order, fastest first)";
    }

    private static long[] reversed(long[] shape) {
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        return ne;
    }

    /** The ggml type with the safetensors dtype's element layout, or null when there is none. */
    private static GgmlType ggmlType(SafetensorsTensor t) {
        return switch (t.dtype()) {
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            default -> null;
        };
    }
}
