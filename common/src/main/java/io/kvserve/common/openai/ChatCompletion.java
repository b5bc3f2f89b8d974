package io.kvserve.common.openai;

import java.util.List;

/**
 * A non-streamed chat completion ({@code "object": "chat.completion"}).
 *
 * @param id      {@code chatcmpl-...}
 * @param object  always {@code chat.completion}
 * @param created Unix seconds
 * @param model   the model id
 * @param choices one per {@code n}
 * @param usage   token counts
 */
public record ChatCompletion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {

    public ChatCompletion(String id, long created, String model, List<Choice> choices, Usage usage) {
        this(id, "chat.completion", created, model, choices, usage);
    }

    /**
     * @param finishReason {@code stop}, {@code length}; never null in a complete response
     * @param logprobs     null unless asked for
     */
    public record Choice(int index, Message message, ChatLogprobs logprobs, String finishReason) {
    }

    /** The assistant's message; {@code refusal} is always null here (OpenAI sends the key). */
    public record Message(String role, String content, String refusal) {

        public Message(String role, String content) {
            this(role, content, null);
        }
    }
}
