package io.kvserve.common.openai;

import java.util.List;
import java.util.Map;

/**
 * A legacy completion, non-streamed or one streamed chunk ({@code "object": "text_completion"} in
 * both, as OpenAI sends it).
 */
public record Completion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {

    public Completion(String id, long created, String model, List<Choice> choices, Usage usage) {
        this(id, "text_completion", created, model, choices, usage);
    }

    /** @param finishReason null in a chunk before the choice ends */
    public record Choice(int index, String text, Logprobs logprobs, String finishReason) {
    }

    /** The legacy logprobs layout: parallel arrays per generated token. */
    public record Logprobs(List<String> tokens, List<Double> tokenLogprobs, List<Map<String, Double>> topLogprobs,
                           List<Integer> textOffset) {
    }
}
