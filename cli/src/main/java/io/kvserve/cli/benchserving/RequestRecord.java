package io.kvserve.cli.benchserving;

/**
 * What happened to one request. Times are in milliseconds; {@code sendMs} counts from the start of
 * the phase (warm-up or measured) it belongs to.
 *
 * @param index         the workload's index of the request
 * @param warmup        whether it was sent in the warm-up phase (then excluded from the statistics)
 * @param sendMs        when it was sent
 * @param ttftMs        time to the first chunk with non-empty text; NaN when none came
 * @param itlMs         gaps between consecutive chunks with non-empty text
 * @param e2eMs         send to the end of the body (or to the failure)
 * @param numPromptTokens the server's {@code usage.prompt_tokens}, else the workload's aim
 * @param numOutputTokens the server's {@code usage.completion_tokens}, else the number of text chunks
 * @param usageReported whether the token counts came from a usage chunk
 * @param error         null when the request succeeded
 * @param tenant        the workload's tenant of the request; null when the workload has none
 * @param numCachedTokens the server's {@code usage.prompt_tokens_details.cached_tokens}; -1 when it sent none
 */
record RequestRecord(int index, boolean warmup, double sendMs, double ttftMs, double[] itlMs, double e2eMs,
                     int numPromptTokens, int numOutputTokens, boolean usageReported, RequestError error,
                     String tenant, int numCachedTokens) {

    /** A record without tenant and cached tokens (the random workload's shape). */
    RequestRecord(int index, boolean warmup, double sendMs, double ttftMs, double[] itlMs, double e2eMs,
                  int numPromptTokens, int numOutputTokens, boolean usageReported, RequestError error) {
        this(index, warmup, sendMs, ttftMs, itlMs, e2eMs, numPromptTokens, numOutputTokens, usageReported, error, null, -1);
    }

    boolean succeeded() {
        return error == null;
    }

    /** Time per output token after the first: {@code (e2e - ttft) / (output tokens - 1)}; NaN with fewer than two. */
    double tpotMs() {
        return succeeded() && numOutputTokens > 1 ? (e2eMs - ttftMs) / (numOutputTokens - 1) : Double.NaN;
    }

    static RequestRecord failed(BenchRequest request, boolean warmup, double sendMs, double e2eMs, RequestError error) {
        return new RequestRecord(request.index(), warmup, sendMs, Double.NaN, new double[0], e2eMs,
                request.numPromptTokensHint(), 0, false, error, request.tenant(), -1);
    }
}
