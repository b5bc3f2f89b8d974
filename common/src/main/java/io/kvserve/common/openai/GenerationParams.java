package io.kvserve.common.openai;

import java.util.List;
import java.util.Map;

/**
 * The sampling and stopping parameters the chat and completion endpoints share, as parsed from the
 * request (OpenAI's names, plus vLLM's extensions). Null means "not given": the server applies its
 * default. Values have been checked for type and for the ranges the OpenAI API documents; the engine
 * checks them again against the model (vocabulary, context).
 *
 * @param maxTokens         {@code max_tokens} or {@code max_completion_tokens}, >= 1; null: up to the context length
 * @param n                 choices to generate, >= 1
 * @param temperature       0..2
 * @param topP              (0, 1]
 * @param topK              vLLM extension; 0 or -1 keeps all, else >= 1
 * @param minP              vLLM extension; 0..1
 * @param seed              per-request seed
 * @param stop              stop strings ({@code stop} given as a string or an array), none empty
 * @param stopTokenIds      vLLM extension: token ids that end generation
 * @param presencePenalty   -2..2
 * @param frequencyPenalty  -2..2
 * @param repetitionPenalty vLLM extension; > 0
 * @param logitBias         token id -> bias, -100..100 (ids checked against the vocabulary later)
 * @param topLogprobs       null: no logprobs; else how many alternatives per token (0..20; chat
 *                          {@code logprobs: true} + {@code top_logprobs}, completions {@code logprobs: k})
 * @param minTokens         vLLM extension; >= 0
 * @param ignoreEos         vLLM extension
 */
public record GenerationParams(
        Integer maxTokens,
        int n,
        Double temperature,
        Double topP,
        Integer topK,
        Double minP,
        Long seed,
        List<String> stop,
        List<Integer> stopTokenIds,
        Double presencePenalty,
        Double frequencyPenalty,
        Double repetitionPenalty,
        Map<Integer, Double> logitBias,
        Integer topLogprobs,
        Integer minTokens,
        boolean ignoreEos) {

    public GenerationParams {
        stop = stop == null ? List.of() : List.copyOf(stop);
        stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
    }
}
