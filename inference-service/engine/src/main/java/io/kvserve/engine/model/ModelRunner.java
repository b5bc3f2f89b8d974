package io.kvserve.engine.model;

import io.kvserve.common.model.ModelConfig;

/**
 * What the engine's step loop runs a {@link ForwardBatch} through: the seam between the scheduler's
 * decision and the backend that executes it (vLLM's model runner). {@link LlamaModel} is the CPU one;
 * the CUDA backend keeps weights, activations and the KV cache in device memory behind the same
 * call. Used from one thread, the step loop's, which also closes it.
 */
public interface ModelRunner extends AutoCloseable {

    ModelConfig config();

    /** Most tokens one {@link #forward} call takes, over all its sequences. */
    int maxBatchTokens();

    /**
     * Runs one step and writes the logits rows the batch asks for: {@code logitsOut} is
     * (batch.numLogitsRows(), vocabSize).
     *
     * @throws IllegalArgumentException for a batch the runner cannot take (too many tokens, a token
     *                                  id outside the vocabulary, a block table that does not cover
     *                                  a sequence's positions); the runner's state is unchanged
     */
    void forward(ForwardBatch batch, float[] logitsOut);

    /** Frees what the runner holds (device memory); the weights stay the caller's. */
    @Override
    default void close() {
    }
}
