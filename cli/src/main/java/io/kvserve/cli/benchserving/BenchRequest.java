package io.kvserve.cli.benchserving;

import java.util.List;
import java.util.Objects;

/**
 * One request a workload asks for, independent of the API it is sent through.
 *
 * @param index              position in the run's sequence, from 0 (warm-up requests included)
 * @param prompt             the prompt text; for {@code --api chat} the one user message when {@code messages} is null
 * @param promptIds          token ids sent instead of the text ({@code --api completions --prompt-ids}); null when text
 * @param numPromptTokensHint the number of prompt tokens the workload aimed at (the server's usage is what counts)
 * @param maxTokens          {@code max_tokens}; with {@code ignore_eos} exactly this many are generated
 * @param tenant             the tenant the request belongs to (its API key through the gateway); null for none
 * @param messages           the chat messages (a system prompt, earlier turns); null for one user message of
 *                           {@code prompt}. With {@code --api completions} their contents are joined into the prompt
 */
record BenchRequest(int index, String prompt, List<Integer> promptIds, int numPromptTokensHint, int maxTokens,
                    String tenant, List<ChatMessage> messages) {

    /** One chat message. */
    record ChatMessage(String role, String content) {

        ChatMessage {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(content, "content");
        }
    }

    BenchRequest {
        Objects.requireNonNull(prompt, "prompt");
        promptIds = promptIds == null ? null : List.copyOf(promptIds);
        messages = messages == null ? null : List.copyOf(messages);
    }

    /** A request of no tenant with one user message. */
    BenchRequest(int index, String prompt, List<Integer> promptIds, int numPromptTokensHint, int maxTokens) {
        this(index, prompt, promptIds, numPromptTokensHint, maxTokens, null, null);
    }

    /** A chat request of {@code messages}; {@code prompt} is their contents joined, for the completions API. */
    static BenchRequest chat(int index, List<ChatMessage> messages, int numPromptTokensHint, int maxTokens, String tenant) {
        StringBuilder joined = new StringBuilder();
        for (ChatMessage m : messages) {
            if (!joined.isEmpty()) {
                joined.append("\n\n");
            }
            joined.append(m.content());
        }
        return new BenchRequest(index, joined.toString(), null, numPromptTokensHint, maxTokens, tenant, messages);
    }
}
