package io.kvserve.cli.benchserving;

/** What one SSE event of an OpenAI streaming response means to the benchmark. */
sealed interface StreamEvent {

    /** A chunk with generated text ({@code choices[i].delta.content} or {@code choices[i].text}), possibly empty. */
    record Content(String text) implements StreamEvent {
    }

    /**
     * The usage chunk ({@code stream_options.include_usage}); it may also carry content in other servers.
     *
     * @param numCachedTokens {@code usage.prompt_tokens_details.cached_tokens}; -1 when the server sent none
     */
    record Usage(int promptTokens, int completionTokens, int numCachedTokens) implements StreamEvent {

        Usage(int promptTokens, int completionTokens) {
            this(promptTokens, completionTokens, -1);
        }
    }

    /** An {@code {"error": {...}}} object sent mid-stream. */
    record Error(String type, String message) implements StreamEvent {
    }

    /** {@code data: [DONE]}. */
    record Done() implements StreamEvent {
    }

    /** A chunk that is not JSON, or JSON of no shape above. */
    record Malformed(String data) implements StreamEvent {
    }
}
