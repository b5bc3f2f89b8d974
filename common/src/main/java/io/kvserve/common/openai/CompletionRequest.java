package io.kvserve.common.openai;

import java.util.Objects;

/**
 * {@code POST /v1/completions}, parsed and checked ({@link OpenAiRequests#parseCompletion}).
 *
 * @param model        the model id
 * @param prompt       one prompt, text or token ids
 * @param params       sampling and stopping
 * @param stream       answer as server-sent events
 * @param includeUsage {@code stream_options.include_usage}
 * @param user         the end user's id
 * @param echo         return the prompt before the completion
 */
public record CompletionRequest(String model, Prompt prompt, GenerationParams params, boolean stream,
                                boolean includeUsage, String user, boolean echo) {

    public CompletionRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(params, "params");
    }

    /** A completion prompt: text to tokenize, or token ids as given. */
    public sealed interface Prompt {

        record Text(String text) implements Prompt {
            public Text {
                Objects.requireNonNull(text, "text");
            }
        }

        record TokenIds(int[] ids) implements Prompt {
            public TokenIds {
                ids = ids.clone();
            }

            @Override
            public int[] ids() {
                return ids.clone();
            }
        }
    }
}
