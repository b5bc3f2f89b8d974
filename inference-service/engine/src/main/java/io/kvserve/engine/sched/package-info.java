/**
 * Continuous batching: which requests run in each engine step and which of their tokens are
 * computed, under a token budget ({@code maxNumBatchedTokens}) and a sequence limit
 * ({@code maxNumSeqs}), over the paged KV cache of {@code io.kvserve.engine.kv}.
 *
 * <ul>
 *   <li>{@link io.kvserve.engine.sched.Scheduler} (role) and
 *       {@link io.kvserve.engine.sched.StallFreeScheduler} (strategy: decodes first, chunked prefill
 *       in the remaining budget, preemption by recompute, waiting queue ranked by prefix-hit fraction
 *       with aging).</li>
 *   <li>{@link io.kvserve.engine.sched.Request}: a request's tokens, computed count and block-hash
 *       chain.</li>
 *   <li>{@link io.kvserve.engine.sched.SchedulerOutput} / {@link io.kvserve.engine.sched.ScheduledSequence}:
 *       the immutable per-step decision, turned into a {@code ForwardBatch}.</li>
 * </ul>
 * Everything here is owned by the engine's step-loop thread and is not thread-safe.
 */
package io.kvserve.engine.sched;
