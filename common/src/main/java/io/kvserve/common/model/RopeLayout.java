package io.kvserve.common.model;

/**
 * Which elements of a head vector RoPE rotates together. The same checkpoint needs a different
 * layout depending on where its weights come from, because llama.cpp's converter permutes the
 * llama/mistral Q and K weights so that ggml's "normal" rope (adjacent pairs) reproduces HF's
 * rotate-half rope.
 */
public enum RopeLayout {
    /** Pairs (x[2i], x[2i+1]): GGUF llama and mistral (ggml rope mode 0). */
    INTERLEAVED_PAIRS,
    /** Pairs (x[i], x[i + headDim/2]): HF safetensors for every family, and GGUF qwen2 (ggml NeoX mode). */
    NEOX_HALVES
}
