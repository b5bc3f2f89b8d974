package io.kvserve.engine;

import io.kvserve.engine.sample.SampledToken;
import java.util.List;
import java.util.Objects;

/**
 * What one step produced for one request: the new token (usually one per step), its text, and on
 * the last output the finish reason, usage and timings (vLLM's {@code RequestOutput}, delta mode).
 *
 * @param requestId    the request
 * @param newTokenIds  tokens sampled since the previous output (a stop token included); empty on an
 *                     abort or error
 * @param text         text that became safe to emit: whole characters, nothing of a stop string;
 *                     may be empty
 * @param logprobs     one entry per new token when logprobs were requested, else empty
 * @param finishReason null while the request runs
 * @param usage        token counts; on the final output only, else null
 * @param timings      the request's timeline; on the final output only, else null
 */
public record RequestOutput(String requestId, int[] newTokenIds, String text, List<SampledToken> logprobs,
                            FinishReason finishReason, Usage usage, Timings timings) {

    public RequestOutput {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(newTokenIds, "newTokenIds");
        Objects.requireNonNull(text, "text");
        logprobs = List.copyOf(logprobs);
    }

    public boolean finished() {
        return finishReason != null;
    }

    /**
     * @param promptTokens       tokens of the prompt
     * @param completionTokens   tokens generated
     * @param cachedPromptTokens prompt tokens whose KV came from the prefix cache at first admission
     */
    public record Usage(int promptTokens, int completionTokens, int cachedPromptTokens) {
    }

    /**
     * {@link System#nanoTime()} stamps; -1 where the event did not happen.
     *
     * @param arrivalNanos        arrival (from the request)
     * @param firstScheduledNanos first step it ran in
     * @param firstTokenNanos     first token sampled (TTFT = firstTokenNanos - arrivalNanos)
     * @param lastTokenNanos      last token sampled
     * @param finishedNanos       finish
     */
    public record Timings(long arrivalNanos, long firstScheduledNanos, long firstTokenNanos, long lastTokenNanos,
                          long finishedNanos) {
    }
}
