package io.kvserve.common.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One server-sent event of a streamed chat completion ({@code "object": "chat.completion.chunk"}).
 * A choice's first chunk carries {@code delta.role}, later ones {@code delta.content}, its last one
 * {@code finish_reason}; with {@code stream_options.include_usage} a final chunk has no choices and
 * the usage (every other chunk has {@code "usage": null}).
 */
public record ChatCompletionChunk(String id, String object, long created, String model, List<Choice> choices,
                                  Usage usage) {

    public ChatCompletionChunk(String id, long created, String model, List<Choice> choices, Usage usage) {
        this(id, "chat.completion.chunk", created, model, choices, usage);
    }

    public record Choice(int index, Delta delta, ChatLogprobs logprobs, String finishReason) {
    }

    /** What this chunk adds; role only on a choice's first chunk; a choice's last chunk has an empty delta. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content) {
    }
}
