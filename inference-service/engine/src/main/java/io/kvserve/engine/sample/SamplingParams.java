package io.kvserve.engine.sample;

import io.kvserve.engine.InvalidRequestException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * How one request picks its tokens: the OpenAI sampling parameters plus vLLM's extensions, checked
 * here so that a bad value is refused (with the parameter named, in the OpenAI spelling) before the
 * request reaches the engine. Order of application, as vLLM v1's sampler: logit bias, repetition /
 * frequency / presence penalties, then (temperature > 0) temperature, top-k, top-p, min-p and a
 * draw; temperature 0 is greedy (argmax after bias and penalties).
 *
 * @param maxTokens         most tokens to generate, >= 1 (the engine also stops at the context length)
 * @param minTokens         EOS and stop token ids are not sampled before this many tokens, 0..maxTokens
 * @param temperature       0 (greedy) or > 0, finite; at most 100
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p; 0 &lt; p &lt;= 1
 * @param minP              drop tokens less likely than minP times the most likely; 0 &lt;= minP &lt;= 1
 * @param seed              per-request seed: the same seed, prompt and parameters give the same tokens
 *                          whatever else is in the batch; empty draws a seed at submission
 * @param presencePenalty   subtracted once from the logit of every token already generated; -2..2
 * @param frequencyPenalty  subtracted per occurrence from the logit of generated tokens; -2..2
 * @param repetitionPenalty logits of tokens in the prompt or output divided by it (multiplied when
 *                          negative), as in CTRL / HF; > 0, 1 disables it; at most 10
 * @param logitBias         token id -> bias added to its logit, -100..100 (ids checked against the
 *                          vocabulary by {@link #checkVocabulary})
 * @param stop              strings that end generation when the text contains them (matched across
 *                          token boundaries; the stop string is not part of the output); at most 16,
 *                          none empty
 * @param stopTokenIds      token ids that end generation (the token is not part of the text)
 * @param ignoreEos         keep generating past the model's EOS token
 * @param logprobs          -1 for none; else 0..20: return the chosen token's logprob and this many
 *                          top alternatives
 */
public record SamplingParams(
        int maxTokens,
        int minTokens,
        double temperature,
        int topK,
        double topP,
        double minP,
        OptionalLong seed,
        double presencePenalty,
        double frequencyPenalty,
        double repetitionPenalty,
        Map<Integer, Float> logitBias,
        List<String> stop,
        Set<Integer> stopTokenIds,
        boolean ignoreEos,
        int logprobs) {

    /** Most top alternatives a request may ask for (OpenAI's {@code top_logprobs} limit). */
    public static final int MAX_LOGPROBS = 20;
    /** Most stop strings per request. */
    public static final int MAX_STOP_STRINGS = 16;

    public SamplingParams {
        Objects.requireNonNull(seed, "seed");
        logitBias = Map.copyOf(Objects.requireNonNull(logitBias, "logitBias"));
        stop = List.copyOf(Objects.requireNonNull(stop, "stop"));
        stopTokenIds = Set.copyOf(Objects.requireNonNull(stopTokenIds, "stopTokenIds"));
        if (maxTokens < 1) {
            throw new InvalidRequestException("max_tokens", "max_tokens must be at least 1, got " + maxTokens);
        }
        if (minTokens < 0 || minTokens > maxTokens) {
            throw new InvalidRequestException("min_tokens", "min_tokens must be in 0..max_tokens (" + maxTokens
                    + "), got " + minTokens);
        }
        checkRange("temperature", temperature, 0, 100);
        if (topK < 0) {
            throw new InvalidRequestException("top_k", "top_k must be 0 (all tokens) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidRequestException("top_p", "top_p must be in (0, 1], got " + topP);
        }
        checkRange("min_p", minP, 0, 1);
        checkRange("presence_penalty", presencePenalty, -2, 2);
        checkRange("frequency_penalty", frequencyPenalty, -2, 2);
        if (!(repetitionPenalty > 0 && repetitionPenalty <= 10)) {
            throw new InvalidRequestException("repetition_penalty",
                    "repetition_penalty must be in (0, 10] (1 disables it), got " + repetitionPenalty);
        }
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            float bias = e.getValue();
            if (!(bias >= -100 && bias <= 100)) {
                throw new InvalidRequestException("logit_bias", "logit_bias of token " + e.getKey()
                        + " must be in -100..100, got " + bias);
            }
        }
        if (stop.size() > MAX_STOP_STRINGS) {
            throw new InvalidRequestException("stop", "at most " + MAX_STOP_STRINGS + " stop strings, got " + stop.size());
        }
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new InvalidRequestException("stop", "a stop string must not be empty");
            }
        }
        if (logprobs < -1 || logprobs > MAX_LOGPROBS) {
            throw new InvalidRequestException("top_logprobs", "top_logprobs must be in 0.." + MAX_LOGPROBS + ", got "
                    + logprobs);
        }
    }

    private static void checkRange(String param, double value, double min, double max) {
        if (!(value >= min && value <= max)) { // NaN fails both
            throw new InvalidRequestException(param, param + " must be in " + min + ".." + max + ", got " + value);
        }
    }

    /** Greedy decoding of at most {@code maxTokens} tokens, nothing else set. */
    public static SamplingParams greedy(int maxTokens) {
        return builder().maxTokens(maxTokens).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether this request draws at random (temperature > 0). */
    public boolean isRandom() {
        return temperature > 0;
    }

    /**
     * Checks the token ids this request names (logit bias, stop token ids) against a vocabulary of
     * {@code vocabSize} tokens.
     */
    public void checkVocabulary(int vocabSize) {
        for (int id : logitBias.keySet()) {
            if (id < 0 || id >= vocabSize) {
                throw new InvalidRequestException("logit_bias", "logit_bias names token " + id
                        + ", outside the vocabulary 0.." + (vocabSize - 1));
            }
        }
        for (int id : stopTokenIds) {
            if (id < 0 || id >= vocabSize) {
                throw new InvalidRequestException("stop_token_ids", "stop token id " + id
                        + " is outside the vocabulary 0.." + (vocabSize - 1));
            }
        }
    }

    /** A builder with OpenAI's defaults: 16 tokens, greedy, no penalties, no stops. */
    public static final class Builder {
        private int maxTokens = 16;
        private int minTokens;
        private double temperature;
        private int topK;
        private double topP = 1;
        private double minP;
        private OptionalLong seed = OptionalLong.empty();
        private double presencePenalty;
        private double frequencyPenalty;
        private double repetitionPenalty = 1;
        private Map<Integer, Float> logitBias = Map.of();
        private List<String> stop = List.of();
        private Set<Integer> stopTokenIds = Set.of();
        private boolean ignoreEos;
        private int logprobs = -1;

        private Builder() {
        }

        public Builder maxTokens(int value) { maxTokens = value; return this; }
        public Builder minTokens(int value) { minTokens = value; return this; }
        public Builder temperature(double value) { temperature = value; return this; }
        public Builder topK(int value) { topK = value; return this; }
        public Builder topP(double value) { topP = value; return this; }
        public Builder minP(double value) { minP = value; return this; }
        public Builder seed(long value) { seed = OptionalLong.of(value); return this; }
        public Builder presencePenalty(double value) { presencePenalty = value; return this; }
        public Builder frequencyPenalty(double value) { frequencyPenalty = value; return this; }
        public Builder repetitionPenalty(double value) { repetitionPenalty = value; return this; }
        public Builder logitBias(Map<Integer, Float> value) { logitBias = value; return this; }
        public Builder stop(List<String> value) { stop = value; return this; }
        public Builder stopTokenIds(Set<Integer> value) { stopTokenIds = value; return this; }
        public Builder ignoreEos(boolean value) { ignoreEos = value; return this; }
        public Builder logprobs(int value) { logprobs = value; return this; }

        public SamplingParams build() {
            return new SamplingParams(maxTokens, minTokens, temperature, topK, topP, minP, seed, presencePenalty,
                    frequencyPenalty, repetitionPenalty, logitBias, stop, stopTokenIds, ignoreEos, logprobs);
        }
    }
}
