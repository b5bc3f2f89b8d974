package io.kvserve.engine.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.engine.InvalidRequestException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SamplingParamsTest {

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("temperature NaN", (UnaryOperator<SamplingParams.Builder>) b -> b.temperature(Double.NaN),
                        "temperature"),
                Arguments.of("temperature negative", (UnaryOperator<SamplingParams.Builder>) b -> b.temperature(-0.1),
                        "temperature"),
                Arguments.of("top_p negative", (UnaryOperator<SamplingParams.Builder>) b -> b.topP(-0.5), "top_p"),
                Arguments.of("top_p 0", (UnaryOperator<SamplingParams.Builder>) b -> b.topP(0), "top_p"),
                Arguments.of("top_p NaN", (UnaryOperator<SamplingParams.Builder>) b -> b.topP(Double.NaN), "top_p"),
                Arguments.of("top_k negative", (UnaryOperator<SamplingParams.Builder>) b -> b.topK(-1), "top_k"),
                Arguments.of("min_p above 1", (UnaryOperator<SamplingParams.Builder>) b -> b.minP(1.5), "min_p"),
                Arguments.of("logprobs 21", (UnaryOperator<SamplingParams.Builder>) b -> b.logprobs(21), "top_logprobs"),
                Arguments.of("logprobs -2", (UnaryOperator<SamplingParams.Builder>) b -> b.logprobs(-2), "top_logprobs"),
                Arguments.of("empty stop", (UnaryOperator<SamplingParams.Builder>) b -> b.stop(List.of("ok", "")), "stop"),
                Arguments.of("logit_bias 101",
                        (UnaryOperator<SamplingParams.Builder>) b -> b.logitBias(Map.of(3, 101f)), "logit_bias"),
                Arguments.of("logit_bias NaN",
                        (UnaryOperator<SamplingParams.Builder>) b -> b.logitBias(Map.of(3, Float.NaN)), "logit_bias"),
                Arguments.of("min_tokens > max_tokens",
                        (UnaryOperator<SamplingParams.Builder>) b -> b.maxTokens(4).minTokens(5), "min_tokens"),
                Arguments.of("max_tokens 0", (UnaryOperator<SamplingParams.Builder>) b -> b.maxTokens(0), "max_tokens"),
                Arguments.of("presence_penalty 3",
                        (UnaryOperator<SamplingParams.Builder>) b -> b.presencePenalty(3), "presence_penalty"),
                Arguments.of("frequency_penalty -3",
                        (UnaryOperator<SamplingParams.Builder>) b -> b.frequencyPenalty(-3), "frequency_penalty"),
                Arguments.of("repetition_penalty 0",
                        (UnaryOperator<SamplingParams.Builder>) b -> b.repetitionPenalty(0), "repetition_penalty"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void build_invalidValue_refusedNamingTheParameter(String name, UnaryOperator<SamplingParams.Builder> change,
            String param) {
        assertThatThrownBy(() -> change.apply(SamplingParams.builder()).build())
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo(param));
    }

    @Test
    void build_defaults_greedySixteenTokens() {
        SamplingParams params = SamplingParams.builder().build();
        assertThat(params.maxTokens()).isEqualTo(16);
        assertThat(params.isRandom()).isFalse();
        assertThat(params.logprobs()).isEqualTo(-1);
        assertThat(params.seed()).isEmpty();
    }

    @Test
    void build_boundaryValues_accepted() {
        SamplingParams params = SamplingParams.builder().temperature(100).topP(1).minP(1).logprobs(20)
                .logitBias(Map.of(0, -100f, 1, 100f)).maxTokens(3).minTokens(3).build();
        assertThat(params.minTokens()).isEqualTo(3);
    }

    @Test
    void checkVocabulary_idsOutOfRange_refused() {
        assertThatThrownBy(() -> SamplingParams.builder().logitBias(Map.of(32_000, 1f)).build().checkVocabulary(32_000))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.param()).isEqualTo("logit_bias"));
        assertThatThrownBy(() -> SamplingParams.builder().logitBias(Map.of(-1, 1f)).build().checkVocabulary(32_000))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.param()).isEqualTo("logit_bias"));
        assertThatThrownBy(() -> SamplingParams.builder().stopTokenIds(Set.of(5, 40_000)).build().checkVocabulary(32_000))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.param()).isEqualTo("stop_token_ids"));
        SamplingParams.builder().logitBias(Map.of(31_999, 1f)).stopTokenIds(Set.of(0)).build().checkVocabulary(32_000);
    }
}
