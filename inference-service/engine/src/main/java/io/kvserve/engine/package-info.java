/**
 * The engine as a library: {@link io.kvserve.engine.LlmEngine} runs the step loop (schedule, execute,
 * update) on one platform thread that owns all scheduler and KV state; callers cross into it only
 * through {@link io.kvserve.engine.LlmEngine#submit} / {@link io.kvserve.engine.LlmEngine#abort}
 * (a concurrent inbox) and receive {@link io.kvserve.engine.RequestOutput}s through a per-request
 * {@link io.kvserve.engine.OutputSink}. Limits are an {@link io.kvserve.engine.EngineConfig};
 * requests an {@link io.kvserve.engine.EngineRequest}; a snapshot for metrics an
 * {@link io.kvserve.engine.EngineStats}. Refusals at submission are
 * {@link io.kvserve.engine.InvalidRequestException} (400, with the OpenAI parameter) and
 * {@link io.kvserve.engine.QueueFullException} (429).
 *
 * <p>Subpackages: {@code sched} (continuous batching), {@code kv} (block tables, prefix cache),
 * {@code model} (forward pass), {@code ops} (kernels), {@code sample} (sampling and stops).
 */
package io.kvserve.engine;
