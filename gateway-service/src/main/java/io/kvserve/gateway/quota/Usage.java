package io.kvserve.gateway.quota;

/**
 * What a finished request used, as the engine reports it (OpenAI's {@code usage}).
 *
 * @param promptTokens     prompt tokens; 0 when unknown
 * @param completionTokens generated tokens; 0 when unknown
 * @param cachedTokens     prompt tokens served from the prefix cache (part of {@code promptTokens})
 * @param totalTokens      tokens charged against the quotas; >= prompt + completion
 */
public record Usage(int promptTokens, int completionTokens, int cachedTokens, int totalTokens) {

    public Usage {
        if (promptTokens < 0 || completionTokens < 0 || cachedTokens < 0 || totalTokens < 0) {
            throw new IllegalArgumentException("token counts must be >= 0, got prompt=" + promptTokens + " completion="
                    + completionTokens + " cached=" + cachedTokens + " total=" + totalTokens);
        }
        if (cachedTokens > promptTokens && promptTokens > 0) {
            throw new IllegalArgumentException("cached_tokens (" + cachedTokens + ") are part of prompt_tokens ("
                    + promptTokens + ") and cannot exceed them");
        }
        if ((long) promptTokens + completionTokens > totalTokens) {
            throw new IllegalArgumentException("total_tokens (" + totalTokens + ") must be >= prompt_tokens ("
                    + promptTokens + ") + completion_tokens (" + completionTokens + ")");
        }
    }

    /** Usage with the OpenAI breakdown; total = prompt + completion. */
    public static Usage of(int promptTokens, int completionTokens, int cachedTokens) {
        return new Usage(promptTokens, completionTokens, cachedTokens, promptTokens + completionTokens);
    }

    /** Usage known only as a total (no breakdown). */
    public static Usage ofTotal(int totalTokens) {
        return new Usage(0, 0, 0, totalTokens);
    }
}
