package io.kvserve.common.openai;

import static io.kvserve.common.openai.Bodies.json;
import static io.kvserve.common.openai.Bodies.rejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.kvserve.common.openai.CompletionRequest.Prompt;
import io.kvserve.common.openai.OpenAiRequests.Limits;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ParseCompletionTest {

    private static final Limits FOUR_PROMPT_TOKENS = new Limits(16, 16, 1024, 4);

    private static CompletionRequest parse(String singleQuoted) {
        return OpenAiRequests.parseCompletion(json(singleQuoted), FOUR_PROMPT_TOKENS);
    }

    private static OpenAiError reject(String singleQuoted) {
        return rejected(() -> parse(singleQuoted));
    }

    @Test
    void parseCompletion_everyField_parsedIntoRecord() {
        CompletionRequest request = parse("""
                {'model': 'qwen', 'prompt': 'Once upon', 'suffix': '', 'echo': true, 'best_of': 3, 'n': 3,
                 'stream': true, 'stream_options': {'include_usage': true}, 'user': 'u-1', 'max_tokens': 64,
                 'temperature': 0, 'top_p': 1, 'top_k': 1, 'min_p': 0, 'seed': 42, 'stop': '\\n',
                 'stop_token_ids': [0], 'presence_penalty': 2, 'frequency_penalty': -2, 'repetition_penalty': 10,
                 'logit_bias': {'7': 100}, 'logprobs': 5, 'min_tokens': 64, 'ignore_eos': false}
                """);

        assertThat(request).isEqualTo(new CompletionRequest("qwen", new Prompt.Text("Once upon"),
                new GenerationParams(64, 3, 0.0, 1.0, 1, 0.0, 42L, List.of("\n"), List.of(0), 2.0, -2.0, 10.0,
                        Map.of(7, 100.0), 5, 64, false),
                true, true, "u-1", true));
    }

    @Test
    void parseCompletion_onlyRequiredFields_defaultsApplied() {
        CompletionRequest request = parse("{'model': 'm', 'prompt': 'x'}");

        assertThat(request.echo()).isFalse();
        assertThat(request.stream()).isFalse();
        assertThat(request.includeUsage()).isFalse();
        assertThat(request.user()).isNull();
        assertThat(request.params()).isEqualTo(new GenerationParams(null, 1, null, null, null, null, null, null,
                null, null, null, null, null, null, null, false));
    }

    @Test
    void parseCompletion_logprobsZero_topLogprobsZeroNotNull() {
        assertThat(parse("{'model': 'm', 'prompt': 'x', 'logprobs': 0}").params().topLogprobs()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"'Hi'", "['Hi']"})
    void parseCompletion_textPrompt_text(String prompt) {
        assertThat(parse("{'model': 'm', 'prompt': " + prompt + "}").prompt()).isEqualTo(new Prompt.Text("Hi"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1, 2, 2147483647, 0]", "[[1, 2, 2147483647, 0]]"})
    void parseCompletion_tokenIdPrompt_idsAsGiven(String prompt) {
        Prompt parsed = parse("{'model': 'm', 'prompt': " + prompt + "}").prompt();

        assertThat(parsed).isInstanceOfSatisfying(Prompt.TokenIds.class,
                ids -> assertThat(ids.ids()).containsExactly(1, 2, Integer.MAX_VALUE, 0));
    }

    static Stream<Arguments> badFields() {
        return Stream.of(
                arguments("'model': 'm'", "prompt", "'prompt' is required"),
                arguments("'model': 'm', 'prompt': ''", "prompt", "must be a non-empty string, got \"\""),
                arguments("'model': 'm', 'prompt': ['']", "prompt[0]", "must be a non-empty string"),
                arguments("'model': 'm', 'prompt': []", "prompt", "got an array of 0 elements"),
                arguments("'model': 'm', 'prompt': 5", "prompt", "got 5"),
                arguments("'model': 'm', 'prompt': {}", "prompt", "got an object"),
                arguments("'model': 'm', 'prompt': ['a', 'b']", "prompt",
                        "this server takes one prompt per request; got 2"),
                arguments("'model': 'm', 'prompt': [[1], [2], [3]]", "prompt",
                        "this server takes one prompt per request; got 3"),
                arguments("'model': 'm', 'prompt': [1, -1]", "prompt[1]", "'prompt[1]' must be a token id"),
                arguments("'model': 'm', 'prompt': [1, 'a']", "prompt[1]", "got \"a\" (a string)"),
                arguments("'model': 'm', 'prompt': [1, 2147483648]", "prompt[1]", "got 2147483648"),
                arguments("'model': 'm', 'prompt': [[1, 2.5]]", "prompt[0][1]", "got 2.5"),
                arguments("'model': 'm', 'prompt': [[]]", "prompt[0]", "non-empty array of token ids"),
                arguments("'model': 'm', 'prompt': [true]", "prompt[0]", "got true (a boolean)"),
                arguments("'model': 'm', 'prompt': [1, 2, 3, 4, 5]", "prompt",
                        "'prompt' has 5 token ids; at most 4 are allowed"),
                arguments("'model': 'm', 'prompt': [[1, 2, 3, 4, 5]]", "prompt[0]", "has 5 token ids; at most 4"),
                arguments("'prompt': 'x'", "model", "'model' is required"),
                arguments("'model': 'm', 'prompt': 'x', 'suffix': 'end'", "suffix", "'suffix' is not supported"),
                arguments("'model': 'm', 'prompt': 'x', 'echo': 'yes'", "echo", "must be a boolean"),
                arguments("'model': 'm', 'prompt': 'x', 'best_of': 2", "best_of",
                        "'best_of' greater than 'n' is not supported by this server: n is 1, got best_of 2"),
                arguments("'model': 'm', 'prompt': 'x', 'best_of': 1, 'n': 2", "best_of", "must be >= 'n' (2), got 1"),
                arguments("'model': 'm', 'prompt': 'x', 'logprobs': 6", "logprobs", "in 0..5, got 6"),
                arguments("'model': 'm', 'prompt': 'x', 'logprobs': true", "logprobs", "got true (a boolean)"),
                arguments("'model': 'm', 'prompt': 'x', 'max_tokens': -5", "max_tokens", ">= 1, got -5"),
                arguments("'model': 'm', 'prompt': 'x', 'max_completion_tokens': 5", "max_completion_tokens",
                        "Unrecognized request argument supplied: max_completion_tokens"),
                arguments("'model': 'm', 'prompt': 'x', 'messages': []", "messages", "Unrecognized request argument"),
                arguments("'model': 'm', 'prompt': 'x', 'stream_options': {'include_usage': true}", "stream_options",
                        "only allowed when stream is true"),
                arguments("'model': 'm', 'prompt': 'x', 'temperature': 2.01", "temperature", "got 2.01"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFields")
    void parseCompletion_badField_400NamingParam(String fields, String param, String messageFragment) {
        OpenAiError error = reject("{" + fields + "}");

        assertThat(error.param()).isEqualTo(param);
        assertThat(error.message()).contains(messageFragment);
    }

    @Test
    void parseCompletion_bestOfEqualToN_accepted() {
        assertThat(parse("{'model': 'm', 'prompt': 'x', 'best_of': 2, 'n': 2}").params().n()).isEqualTo(2);
    }
}
