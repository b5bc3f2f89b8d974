package io.kvserve.engine.backend;

import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.model.ModelRunner;

/**
 * Where an engine's math runs: the CPU (Vector API kernels over host memory) or a GPU (our CUDA
 * kernels over device memory). A backend makes the engine's {@link ModelRunner}; the scheduler, the
 * KV block manager and the sampler are the same on every backend.
 */
public interface Backend extends AutoCloseable {

    /** {@code cpu} or {@code cuda}: the value of {@code kvserve.engine.backend} that picks it. */
    String name();

    /** One line for logs and {@code /actuator/info}: the device and how it is used. */
    String description();

    /**
     * A runner for {@code weights} whose KV cache holds {@code numKvBlocks} blocks of
     * {@code blockSize} tokens and takes at most {@code maxBatchTokens} tokens per step.
     *
     * @throws IllegalArgumentException for a model this backend cannot run, saying why
     */
    ModelRunner createRunner(LlamaWeights weights, int numKvBlocks, int blockSize, KvCacheDtype kvCacheDtype,
                             int maxBatchTokens);

    /** Releases the device (after every runner it made is closed). */
    @Override
    default void close() {
    }
}
