/**
 * GGUF model files as llama.cpp writes them: {@link io.kvserve.common.gguf.GgufFile} maps and
 * validates a file (the layout picture is in its javadoc), {@link io.kvserve.common.gguf.GgufWriter}
 * streams one out, {@link io.kvserve.common.gguf.GgmlType} and {@link io.kvserve.common.gguf.GgmlQuants}
 * know ggml's tensor element types and convert them to and from float.
 *
 * <p>Shapes are in ggml order throughout: {@code ne[0]} is the row length (fastest-varying
 * dimension), the reverse of the PyTorch/safetensors order. A llama weight of PyTorch shape
 * {@code (out, in)} is stored with {@code ne = [in, out]}: one row per output feature.
 */
package io.kvserve.common.gguf;
