package io.kvserve.inference.model;

/**
 * What this instance serves, for {@code /actuator/info}, {@code /v1/models} and the registry.
 *
 * @param name             the model id clients send
 * @param path             the model file
 * @param format           GGUF or SAFETENSORS
 * @param architecture     llama, qwen2, mistral
 * @param weightType       element type of the projection weights (Q8_0, F16, ...)
 * @param backend          cpu or cuda ({@code kvserve.engine.backend})
 * @param backendDetail    the device and why this backend was chosen ("auto: cuda unavailable (...); cpu: ...")
 * @param numThreads       CPU matmul threads (the cpu backend's)
 * @param contextLength    the model's context length
 * @param maxModelLen      most tokens per sequence this instance allows
 * @param vocabSize        tokens in the vocabulary
 * @param blockSize        tokens per KV block and prefix-cache hash
 * @param numKvBlocks      blocks in the KV pool
 * @param kvCacheDtype     element type of the KV cache
 * @param enablePrefixCaching prefix caching on
 * @param maxNumSeqs       most sequences running at once
 * @param maxNumBatchedTokens token budget per step
 */
public record ModelInfo(String name, String path, String format, String architecture, String weightType, String backend,
                        String backendDetail, int numThreads, int contextLength, int maxModelLen, int vocabSize, int blockSize,
                        int numKvBlocks, String kvCacheDtype, boolean enablePrefixCaching, int maxNumSeqs,
                        int maxNumBatchedTokens) {

    /** Tokens the KV cache holds in all. */
    public long kvCapacityTokens() {
        return (long) numKvBlocks * blockSize;
    }
}
