package io.kvserve.engine.sample;

import java.util.List;

/**
 * One sampled token.
 *
 * @param tokenId     the chosen token
 * @param logprob     its log-probability under the model's raw distribution ({@code log_softmax} of
 *                    the logits before bias, penalties and temperature: vLLM v1's default
 *                    {@code raw_logprobs}); NaN when logprobs were not requested
 * @param topLogprobs the {@code SamplingParams.logprobs()} most likely tokens of that distribution,
 *                    most likely first; empty when not requested
 */
public record SampledToken(int tokenId, float logprob, List<TokenLogprob> topLogprobs) {

    public SampledToken {
        topLogprobs = List.copyOf(topLogprobs);
    }

    /** A token and its log-probability. */
    public record TokenLogprob(int tokenId, float logprob) {
    }
}
