package io.kvserve.common.openai;

/**
 * Parses and checks OpenAI request bodies, so that a bad request is refused at the edge with a 400
 * that names the parameter and says what is wrong, and never reaches an engine. Used by the
 * inference service and by the gateway (which validates before placing).
 */
public final class OpenAiRequests {

    /**
     * Server limits a request is checked against.
     *
     * @param maxN              most choices per request
     * @param maxStopStrings    most stop strings
     * @param maxStopLength     most characters per stop string
     * @param maxPromptTokenIds most token ids in a prompt given as ids
     */
    public record Limits(int maxN, int maxStopStrings, int maxStopLength, int maxPromptTokenIds) {
        public static final Limits DEFAULT = new Limits(16, 16, 1024, 1 << 20);
    }

    private OpenAiRequests() {
    }

    /** {@code POST /v1/chat/completions}. @throws OpenAiException 400 naming the parameter at fault */
    public static ChatCompletionRequest parseChat(byte[] body, Limits limits) {
        throw new UnsupportedOperationException("in progress");
    }

    /** {@code POST /v1/completions}. @throws OpenAiException 400 naming the parameter at fault */
    public static CompletionRequest parseCompletion(byte[] body, Limits limits) {
        throw new UnsupportedOperationException("in progress");
    }

    /** {@code POST /internal/v1/generate}. @throws OpenAiException 400 naming the parameter at fault */
    public static GenerateRequest parseGenerate(byte[] body, Limits limits) {
        throw new UnsupportedOperationException("in progress");
    }
}
