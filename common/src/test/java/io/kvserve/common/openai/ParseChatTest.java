package io.kvserve.common.openai;

import static io.kvserve.common.openai.Bodies.json;
import static io.kvserve.common.openai.Bodies.rejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.kvserve.common.chat.ChatMessage;
import io.kvserve.common.openai.OpenAiRequests.Limits;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ParseChatTest {

    private static final String MODEL_AND_USER_MESSAGE = "'model':'m','messages':[{'role':'user','content':'hi'}]";

    private static ChatCompletionRequest parse(String singleQuoted) {
        return OpenAiRequests.parseChat(json(singleQuoted), Limits.DEFAULT);
    }

    private static OpenAiError reject(String singleQuoted) {
        return rejected(() -> parse(singleQuoted));
    }

    @Test
    void parseChat_everyField_parsedIntoRecord() {
        ChatCompletionRequest request = parse("""
                {'model': 'llama-3.1-8b',
                 'messages': [
                   {'role': 'system', 'content': 'Be brief.'},
                   {'role': 'developer', 'content': 'No markdown.'},
                   {'role': 'user', 'content': [{'type': 'text', 'text': 'Hello, '}, {'type': 'text', 'text': 'there'}],
                    'name': 'ann'},
                   {'role': 'assistant', 'content': null},
                   {'role': 'tool', 'content': '42', 'tool_call_id': 'call_1'}],
                 'stream': true, 'stream_options': {'include_usage': true}, 'user': 'u-7',
                 'max_completion_tokens': 100, 'max_tokens': 100, 'n': 2, 'temperature': 0.7, 'top_p': 0.9,
                 'top_k': 40, 'min_p': 0.05, 'seed': -9223372036854775808, 'stop': ['END', '###'],
                 'stop_token_ids': [2, 128009], 'presence_penalty': -1.5, 'frequency_penalty': 2,
                 'repetition_penalty': 1.1, 'logit_bias': {'50256': -100, '0': 2.5},
                 'logprobs': true, 'top_logprobs': 5, 'min_tokens': 3, 'ignore_eos': true,
                 'add_generation_prompt': false, 'chat_template_kwargs': {'enable_thinking': false},
                 'store': false, 'metadata': {'k': 'v'}, 'service_tier': 'auto', 'parallel_tool_calls': true,
                 'tools': [], 'tool_choice': 'none', 'response_format': {'type': 'text'}, 'modalities': ['text'],
                 'audio': null, 'prediction': null}
                """);

        GenerationParams params = new GenerationParams(100, 2, 0.7, 0.9, 40, 0.05, Long.MIN_VALUE,
                List.of("END", "###"), List.of(2, 128009), -1.5, 2.0, 1.1, Map.of(50256, -100.0, 0, 2.5), 5, 3, true);
        assertThat(request).isEqualTo(new ChatCompletionRequest("llama-3.1-8b", List.of(
                ChatMessage.system("Be brief."),
                new ChatMessage("developer", "No markdown."),
                new ChatMessage("user", "Hello, there", Map.of("name", "ann")),
                ChatMessage.assistant(""),
                new ChatMessage("tool", "42", Map.of("tool_call_id", "call_1"))),
                params, true, true, "u-7", false, Map.of("enable_thinking", false)));
    }

    @Test
    void parseChat_onlyRequiredFields_defaultsApplied() {
        ChatCompletionRequest request = parse("{" + MODEL_AND_USER_MESSAGE + "}");

        assertThat(request).isEqualTo(new ChatCompletionRequest("m", List.of(ChatMessage.user("hi")),
                new GenerationParams(null, 1, null, null, null, null, null, null, null, null, null, null, null, null,
                        null, false),
                false, false, null, true, Map.of()));
    }

    @Test
    void parseChat_nullOptionalFields_treatedAsNotGiven() {
        ChatCompletionRequest request = parse("{" + MODEL_AND_USER_MESSAGE + ", 'temperature': null, 'n': null,"
                + " 'stop': null, 'logit_bias': null, 'stream_options': null, 'user': null, 'tools': null,"
                + " 'add_generation_prompt': null}");

        assertThat(request.params().temperature()).isNull();
        assertThat(request.params().n()).isEqualTo(1);
        assertThat(request.params().stop()).isEmpty();
        assertThat(request.user()).isNull();
        assertThat(request.addGenerationPrompt()).isTrue();
    }

    @Test
    void parseChat_maxTokensOnly_storedAsMaxTokens() {
        assertThat(parse("{" + MODEL_AND_USER_MESSAGE + ", 'max_tokens': 7}").params().maxTokens()).isEqualTo(7);
        assertThat(parse("{" + MODEL_AND_USER_MESSAGE + ", 'max_completion_tokens': 9}").params().maxTokens())
                .isEqualTo(9);
    }

    @Test
    void parseChat_logprobsWithoutTopLogprobs_zeroAlternatives() {
        assertThat(parse("{" + MODEL_AND_USER_MESSAGE + ", 'logprobs': true}").params().topLogprobs()).isZero();
        assertThat(parse("{" + MODEL_AND_USER_MESSAGE + ", 'logprobs': false}").params().topLogprobs()).isNull();
    }

    @Test
    void parseChat_stopAsString_oneStopString() {
        assertThat(parse("{" + MODEL_AND_USER_MESSAGE + ", 'stop': 'END'}").params().stop()).containsExactly("END");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "0"})
    void parseChat_topKAllTokens_keptAsGiven(String topK) {
        assertThat(parse("{" + MODEL_AND_USER_MESSAGE + ", 'top_k': " + topK + "}").params().topK())
                .isEqualTo(Integer.parseInt(topK));
    }

    @Test
    void parseChat_streamWithoutStreamOptions_noUsageChunk() {
        ChatCompletionRequest request = parse("{" + MODEL_AND_USER_MESSAGE + ", 'stream': true}");

        assertThat(request.stream()).isTrue();
        assertThat(request.includeUsage()).isFalse();
    }

    @Test
    void parseChat_toolChoiceAutoWithoutTools_accepted() {
        assertThat(parse("{" + MODEL_AND_USER_MESSAGE + ", 'tool_choice': 'auto', 'functions': []}").model())
                .isEqualTo("m");
    }

    @Test
    void parseChat_nestedTemplateKwargs_plainJavaValuesAndTopLevelNullDropped() {
        ChatCompletionRequest request = parse("{" + MODEL_AND_USER_MESSAGE
                + ", 'chat_template_kwargs': {'tools_json': {'a': [1, 2.5, 'x', null, true]}, 'big': 3000000000,"
                + " 'unset': null}}");

        assertThat(request.chatTemplateKwargs()).containsOnlyKeys("tools_json", "big");
        assertThat(request.chatTemplateKwargs().get("tools_json"))
                .isEqualTo(Map.of("a", Arrays.asList(1, 2.5, "x", null, true)));
        assertThat(request.chatTemplateKwargs().get("big")).isEqualTo(3_000_000_000L);
    }

    static Stream<Arguments> badTopLevelFields() {
        return Stream.of(
                arguments("'foo': 1", "foo", "Unrecognized request argument supplied: foo"),
                arguments("'temperature': 'hot'", "temperature",
                        "'temperature' must be a number in 0..2, got \"hot\" (a string)"),
                arguments("'temperature': 2.5", "temperature", "'temperature' must be a number in 0..2, got 2.5"),
                arguments("'temperature': -0.1", "temperature", "got -0.1"),
                arguments("'temperature': 1e400", "temperature", "must be a number in 0..2"),
                arguments("'top_p': 0", "top_p", "'top_p' must be a number in (0, 1], got 0"),
                arguments("'top_p': 1.01", "top_p", "in (0, 1], got 1.01"),
                arguments("'presence_penalty': -2.5", "presence_penalty", "in -2..2, got -2.5"),
                arguments("'frequency_penalty': true", "frequency_penalty", "in -2..2, got true (a boolean)"),
                arguments("'n': 17", "n", "'n' must be an integer in 1..16, got 17"),
                arguments("'n': 0", "n", "in 1..16, got 0"),
                arguments("'n': 1.5", "n", "got 1.5"),
                arguments("'max_tokens': -1", "max_tokens", "'max_tokens' must be an integer >= 1, got -1"),
                arguments("'max_tokens': 0", "max_tokens", "got 0"),
                arguments("'max_tokens': 1.5", "max_tokens", "got 1.5"),
                arguments("'max_tokens': '1'", "max_tokens", "got \"1\" (a string)"),
                arguments("'max_tokens': 3000000000", "max_tokens", "in 1..2147483647, got 3000000000"),
                arguments("'max_completion_tokens': 0", "max_completion_tokens", ">= 1, got 0"),
                arguments("'max_tokens': 5, 'max_completion_tokens': 6", "max_completion_tokens", "disagree"),
                arguments("'seed': '1'", "seed",
                        "'seed' must be an integer in -9223372036854775808..9223372036854775807"),
                arguments("'seed': 9223372036854775808", "seed", "got 9223372036854775808"),
                arguments("'seed': 1.5", "seed", "got 1.5"),
                arguments("'top_k': -2", "top_k", "'top_k' must be an integer >= -1, got -2"),
                arguments("'top_k': 2.5", "top_k", "got 2.5"),
                arguments("'min_p': 1.5", "min_p", "in 0..1, got 1.5"),
                arguments("'repetition_penalty': 0", "repetition_penalty", "in (0, 10], got 0"),
                arguments("'repetition_penalty': 10.5", "repetition_penalty", "got 10.5"),
                arguments("'min_tokens': -1", "min_tokens", "'min_tokens' must be an integer >= 0, got -1"),
                arguments("'min_tokens': 10, 'max_tokens': 5", "min_tokens", "must be <= 'max_tokens' (5), got 10"),
                arguments("'ignore_eos': 'yes'", "ignore_eos", "'ignore_eos' must be a boolean, got \"yes\""),
                arguments("'stop_token_ids': [2, -1]", "stop_token_ids[1]", "got -1"),
                arguments("'stop_token_ids': 2", "stop_token_ids", "must be an array, got 2"),
                arguments("'stop': ''", "stop", "non-empty string"),
                arguments("'stop': ['a', '']", "stop[1]", "'stop[1]' must be a non-empty string"),
                arguments("'stop': [7]", "stop[0]", "got 7"),
                arguments("'stop': 7", "stop", "a string or an array of strings, got 7"),
                arguments("'logit_bias': {'abc': 1}", "logit_bias", "keys must be token ids"),
                arguments("'logit_bias': {'-1': 1}", "logit_bias", "got key \"-1\""),
                arguments("'logit_bias': {'007': 1}", "logit_bias", "got key \"007\""),
                arguments("'logit_bias': {'99999999999': 1}", "logit_bias", "got key \"99999999999\""),
                arguments("'logit_bias': {'5': 101}", "logit_bias",
                        "'logit_bias' values must be a number in -100..100, got 101 for token 5"),
                arguments("'logit_bias': {'5': '1'}", "logit_bias", "got \"1\" (a string) for token 5"),
                arguments("'logit_bias': [1]", "logit_bias", "must be an object, got an array of 1 element"),
                arguments("'logprobs': 1", "logprobs", "'logprobs' must be a boolean, got 1"),
                arguments("'top_logprobs': 2", "top_logprobs", "only allowed when 'logprobs' is true"),
                arguments("'logprobs': false, 'top_logprobs': 2", "top_logprobs", "only allowed when"),
                arguments("'logprobs': true, 'top_logprobs': 21", "top_logprobs", "in 0..20, got 21"),
                arguments("'stream_options': {'include_usage': true}", "stream_options",
                        "stream_options is only allowed when stream is true"),
                arguments("'stream': false, 'stream_options': {}", "stream_options",
                        "only allowed when stream is true"),
                arguments("'stream': true, 'stream_options': {'include_usage': 'yes'}", "stream_options.include_usage",
                        "must be a boolean"),
                arguments("'stream': true, 'stream_options': {'foo': 1}", "stream_options.foo",
                        "Unrecognized request argument supplied: stream_options.foo"),
                arguments("'stream': 1", "stream", "must be a boolean, got 1"),
                arguments("'tools': [{'type': 'function'}]", "tools", "'tools' is not supported by this server"),
                arguments("'functions': [{'name': 'f'}]", "functions", "not supported"),
                arguments("'tool_choice': 'required'", "tool_choice", "got \"required\""),
                arguments("'tool_choice': {'type': 'function'}", "tool_choice", "not supported"),
                arguments("'response_format': {'type': 'json_object'}", "response_format",
                        "got type \"json_object\""),
                arguments("'audio': {'voice': 'alloy'}", "audio", "'audio' is not supported"),
                arguments("'modalities': ['text', 'audio']", "modalities", "other than [\"text\"] is not supported"),
                arguments("'prediction': {'type': 'content'}", "prediction", "not supported"),
                arguments("'store': 'yes'", "store", "must be a boolean"),
                arguments("'metadata': 'x'", "metadata", "must be an object"),
                arguments("'user': 5", "user", "'user' must be a string, got 5"),
                arguments("'add_generation_prompt': 'no'", "add_generation_prompt", "must be a boolean"),
                arguments("'chat_template_kwargs': []", "chat_template_kwargs", "must be an object"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTopLevelFields")
    void parseChat_badField_400NamingParam(String fields, String param, String messageFragment) {
        OpenAiError error = reject("{" + MODEL_AND_USER_MESSAGE + ", " + fields + "}");

        assertThat(error.param()).isEqualTo(param);
        assertThat(error.message()).contains(messageFragment);
    }

    static Stream<Arguments> badModelsAndMessages() {
        return Stream.of(
                arguments("'messages': [{'role': 'user', 'content': 'x'}]", "model", "'model' is required"),
                arguments("'model': '', 'messages': [{'role': 'user', 'content': 'x'}]", "model", "non-empty string"),
                arguments("'model': 5, 'messages': [{'role': 'user', 'content': 'x'}]", "model", "got 5"),
                arguments("'model': 'm'", "messages", "'messages' is required"),
                arguments("'model': 'm', 'messages': []", "messages", "non-empty array of messages, got an array of 0"),
                arguments("'model': 'm', 'messages': {}", "messages", "got an object"),
                arguments("'model': 'm', 'messages': ['hi']", "messages[0]", "must be an object"),
                arguments("'model': 'm', 'messages': [{'content': 'x'}]", "messages[0].role", "is required"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': 'a'},"
                        + " {'role': 'robot', 'content': 'x'}]", "messages[1].role",
                        "one of \"system\", \"developer\", \"user\", \"assistant\", \"tool\", got \"robot\""),
                arguments("'model': 'm', 'messages': [{'role': 'user'}]", "messages[0].content",
                        "is required on a message with role 'user'"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': 5}]", "messages[0].content",
                        "a string or a non-empty array of content parts, got 5"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': []}]", "messages[0].content",
                        "got an array of 0 elements"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': 'x', 'foo': 1}]", "messages[0].foo",
                        "Unrecognized request argument supplied: messages[0].foo"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': 'a'}, {'role': 'user', 'content': ["
                        + "{'type': 'text', 'text': 'see'}, {'type': 'image_url', 'image_url': {'url': 'http://x'}}]}]",
                        "messages[1].content[1].type", "content part type 'image_url' is not supported by this model"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': [{'type': 'input_audio',"
                        + " 'input_audio': {}}]}]", "messages[0].content[0].type", "'input_audio' is not supported"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': ['x']}]", "messages[0].content[0]",
                        "must be an object"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': [{'text': 'x'}]}]",
                        "messages[0].content[0].type", "is required"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': [{'type': 'text'}]}]",
                        "messages[0].content[0].text", "is required"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': [{'type': 'text', 'text': 'x',"
                        + " 'foo': 1}]}]", "messages[0].content[0].foo", "Unrecognized request argument"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': 'x', 'name': 3}]",
                        "messages[0].name", "must be a string"),
                arguments("'model': 'm', 'messages': [{'role': 'tool', 'content': 'x'}]", "messages[0].tool_call_id",
                        "is required on a message with role 'tool'"),
                arguments("'model': 'm', 'messages': [{'role': 'user', 'content': 'x', 'tool_call_id': 'c'}]",
                        "messages[0].tool_call_id", "only allowed on a message with role 'tool'"),
                arguments("'model': 'm', 'messages': [{'role': 'assistant', 'content': 'x', 'tool_calls': []}]",
                        "messages[0].tool_calls", "Unrecognized request argument"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badModelsAndMessages")
    void parseChat_badModelOrMessage_400NamingParam(String fields, String param, String messageFragment) {
        OpenAiError error = reject("{" + fields + "}");

        assertThat(error.param()).isEqualTo(param);
        assertThat(error.message()).contains(messageFragment);
    }

    @Test
    void parseChat_fiveThousandStopStrings_400BeforeReadingThem() {
        String stop = String.join(", ", Collections.nCopies(5000, "'x'"));

        OpenAiError error = reject("{" + MODEL_AND_USER_MESSAGE + ", 'stop': [" + stop + "]}");

        assertThat(error.param()).isEqualTo("stop");
        assertThat(error.message()).isEqualTo("'stop' has 5000 strings; at most 16 are allowed");
    }

    @Test
    void parseChat_stopStringOverMaxLength_400QuotingOnlyItsStart() {
        String tooLong = "y".repeat(1025);

        OpenAiError error = reject("{" + MODEL_AND_USER_MESSAGE + ", 'stop': ['ok', '" + tooLong + "']}");

        assertThat(error.param()).isEqualTo("stop[1]");
        assertThat(error.message()).contains("at most 1024 characters", "(a string of 1025 characters)")
                .doesNotContain(tooLong);
    }

    @Test
    void parseChat_stopStringAtMaxLength_accepted() {
        String longest = "y".repeat(1024);

        assertThat(parse("{" + MODEL_AND_USER_MESSAGE + ", 'stop': '" + longest + "'}").params().stop())
                .containsExactly(longest);
    }

    @Test
    void parseChat_nAboveServerLimit_400WithServerLimit() {
        OpenAiError error = rejected(() -> OpenAiRequests.parseChat(
                json("{" + MODEL_AND_USER_MESSAGE + ", 'n': 5}"), new Limits(4, 16, 1024, 1 << 20)));

        assertThat(error.param()).isEqualTo("n");
        assertThat(error.message()).isEqualTo("'n' must be an integer in 1..4, got 5");
    }

    @Test
    void parseChat_tooManyLogitBiasEntries_400() {
        StringBuilder bias = new StringBuilder();
        for (int id = 0; id <= OpenAiRequests.MAX_LOGIT_BIAS_ENTRIES; id++) {
            bias.append(id == 0 ? "" : ",").append("'").append(id).append("':1");
        }

        OpenAiError error = reject("{" + MODEL_AND_USER_MESSAGE + ", 'logit_bias': {" + bias + "}}");

        assertThat(error.param()).isEqualTo("logit_bias");
        assertThat(error.message()).contains("has 65537 entries; at most 65536");
    }

    @Test
    void parseChat_tooManyStopTokenIds_400() {
        String ids = String.join(",", Collections.nCopies(OpenAiRequests.MAX_STOP_TOKEN_IDS + 1, "1"));

        OpenAiError error = reject("{" + MODEL_AND_USER_MESSAGE + ", 'stop_token_ids': [" + ids + "]}");

        assertThat(error.param()).isEqualTo("stop_token_ids");
        assertThat(error.message()).contains("has 1025 token ids; at most 1024");
    }
}
