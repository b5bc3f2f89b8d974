package io.kvserve.cli.benchserving;

import java.util.List;
import java.util.Objects;

/**
 * One request a workload asks for, independent of the API it is sent through.
 *
 * @param index              position in the run's sequence, from 0 (warm-up requests included)
 * @param prompt             the prompt text; for {@code --api chat} the one user message
 * @param promptIds          token ids sent instead of the text ({@code --api completions --prompt-ids}); null when text
 * @param numPromptTokensHint the number of prompt tokens the workload aimed at (the server's usage is what counts)
 * @param maxTokens          {@code max_tokens}; with {@code ignore_eos} exactly this many are generated
 */
record BenchRequest(int index, String prompt, List<Integer> promptIds, int numPromptTokensHint, int maxTokens) {

    BenchRequest {
        Objects.requireNonNull(prompt, "prompt");
        promptIds = promptIds == null ? null : List.copyOf(promptIds);
    }
}
