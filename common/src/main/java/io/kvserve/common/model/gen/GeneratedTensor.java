package io.kvserve.common.model.gen;

import java.util.ArrayList;
import java.util.List;

/**
 * One weight tensor of a generated model, named both ways: llama.cpp's GGUF name and the Hugging
 * Face checkpoint name. Shapes are given as a matrix of {@code numRows} rows of {@code rowLength}
 * values (HF {@code [numRows, rowLength]} = GGUF {@code ne = [rowLength, numRows]}); 1-D tensors have
 * one row.
 *
 * @param ggufName   llama.cpp's tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param hfName     Hugging Face name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param numRows    rows (output features for a projection, vocabulary for the embedding)
 * @param rowLength  values per row (input features)
 * @param kind       how its values are drawn
 * @param ropeHeads  for Q and K of {@code llama} GGUF files: heads whose rows llama.cpp's converter
 *                   permutes for interleaved-pair RoPE; 0 when rows are stored as in the HF file
 */
public record GeneratedTensor(String ggufName, String hfName, int numRows, int rowLength, Kind kind, int ropeHeads) {

    /** How a tensor's values are drawn; see {@link RandomWeights}. */
    public enum Kind { EMBEDDING, NORM, PROJECTION, BIAS, ROPE_FREQS }

    public boolean isVector() {
        return numRows == 1;
    }

    public long numElements() {
        return (long) numRows * rowLength;
    }

    /**
     * The HF row that GGUF row {@code ggufRow} holds. llama.cpp's converter reorders each head's rows
     * of Q and K so that RoPE rotates adjacent pairs instead of the two halves:
     * <pre>
     *   HF head rows:   [ x0 x1 ... x(d/2-1) | y0 y1 ... y(d/2-1) ]   rotate (x_i, y_i)
     *   GGUF head rows: [ x0 y0 x1 y1 ... x(d/2-1) y(d/2-1) ]         rotate rows (2i, 2i+1)
     *   so GGUF row h*d + 2i + j  holds  HF row h*d + j*d/2 + i
     * </pre>
     */
    public int hfRowOf(int ggufRow) {
        if (ropeHeads == 0) {
            return ggufRow;
        }
        int headDim = numRows / ropeHeads;
        int head = ggufRow / headDim;
        int inHead = ggufRow % headDim;
        int i = inHead / 2;
        int j = inHead % 2;
        return head * headDim + j * (headDim / 2) + i;
    }

    /** Every tensor of {@code preset}, in llama.cpp's order. */
    public static List<GeneratedTensor> of(ModelPreset p) {
        boolean permuteRope = p.architecture().equals("llama");
        List<GeneratedTensor> tensors = new ArrayList<>();
        tensors.add(new GeneratedTensor("token_embd.weight", "model.embed_tokens.weight", p.vocabSize(), p.dim(), Kind.EMBEDDING, 0));
        if (p.ropeScaling().type() == io.kvserve.common.model.RopeScaling.Type.LLAMA3) {
            // llama.cpp stores llama3 scaling as per-frequency divisors; HF keeps it in config.json.
            tensors.add(new GeneratedTensor("rope_freqs.weight", null, 1, p.headDim() / 2, Kind.ROPE_FREQS, 0));
        }
        for (int l = 0; l < p.numLayers(); l++) {
            String b = "blk." + l + ".";
            String h = "model.layers." + l + ".";
            tensors.add(new GeneratedTensor(b + "attn_norm.weight", h + "input_layernorm.weight", 1, p.dim(), Kind.NORM, 0));
            tensors.add(new GeneratedTensor(b + "attn_q.weight", h + "self_attn.q_proj.weight", p.qDim(), p.dim(), Kind.PROJECTION,
                    permuteRope ? p.numHeads() : 0));
            tensors.add(new GeneratedTensor(b + "attn_k.weight", h + "self_attn.k_proj.weight", p.kvDim(), p.dim(), Kind.PROJECTION,
                    permuteRope ? p.numKvHeads() : 0));
            tensors.add(new GeneratedTensor(b + "attn_v.weight", h + "self_attn.v_proj.weight", p.kvDim(), p.dim(), Kind.PROJECTION, 0));
            if (p.qkvBias()) {
                tensors.add(new GeneratedTensor(b + "attn_q.bias", h + "self_attn.q_proj.bias", 1, p.qDim(), Kind.BIAS, 0));
                tensors.add(new GeneratedTensor(b + "attn_k.bias", h + "self_attn.k_proj.bias", 1, p.kvDim(), Kind.BIAS, 0));
                tensors.add(new GeneratedTensor(b + "attn_v.bias", h + "self_attn.v_proj.bias", 1, p.kvDim(), Kind.BIAS, 0));
            }
            tensors.add(new GeneratedTensor(b + "attn_output.weight", h + "self_attn.o_proj.weight", p.dim(), p.qDim(), Kind.PROJECTION, 0));
            tensors.add(new GeneratedTensor(b + "ffn_norm.weight", h + "post_attention_layernorm.weight", 1, p.dim(), Kind.NORM, 0));
            tensors.add(new GeneratedTensor(b + "ffn_gate.weight", h + "mlp.gate_proj.weight", p.hiddenDim(), p.dim(), Kind.PROJECTION, 0));
            tensors.add(new GeneratedTensor(b + "ffn_up.weight", h + "mlp.up_proj.weight", p.hiddenDim(), p.dim(), Kind.PROJECTION, 0));
            tensors.add(new GeneratedTensor(b + "ffn_down.weight", h + "mlp.down_proj.weight", p.dim(), p.hiddenDim(), Kind.PROJECTION, 0));
        }
        tensors.add(new GeneratedTensor("output_norm.weight", "model.norm.weight", 1, p.dim(), Kind.NORM, 0));
        if (!p.tiedEmbeddings()) {
            tensors.add(new GeneratedTensor("output.weight", "lm_head.weight", p.vocabSize(), p.dim(), Kind.PROJECTION, 0));
        }
        return List.copyOf(tensors);
    }
}
