package io.kvserve.common.openai;

import java.util.List;

/** Chat {@code logprobs}: one entry per generated token. */
public record ChatLogprobs(List<TokenLogprob> content) {

    /**
     * @param token       the token's text
     * @param logprob     its log-probability
     * @param bytes       the token's UTF-8 bytes (a token may hold part of a character)
     * @param topLogprobs the most likely tokens at that position
     */
    public record TokenLogprob(String token, double logprob, int[] bytes, List<TopLogprob> topLogprobs) {
    }

    public record TopLogprob(String token, double logprob, int[] bytes) {
    }
}
