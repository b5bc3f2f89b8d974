package io.kvserve.common.openai;

import static io.kvserve.common.openai.Bodies.json;
import static io.kvserve.common.openai.Bodies.rejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.kvserve.common.openai.CompletionRequest.Prompt;
import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.OpenAiRequests.Limits;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ParseGenerateTest {

    private static final byte[] SALT = "sixteen-byte-key".getBytes(StandardCharsets.US_ASCII);
    private static final String SALT_BASE64 = Base64.getEncoder().encodeToString(SALT);
    private static final String CHAT =
            "{'model': 'm', 'messages': [{'role': 'user', 'content': 'hi'}], 'temperature': 0.5}";

    private static GenerateRequest parse(String singleQuoted) {
        return OpenAiRequests.parseGenerate(json(singleQuoted), Limits.DEFAULT);
    }

    private static OpenAiError reject(String singleQuoted) {
        return rejected(() -> parse(singleQuoted));
    }

    /** A valid chat envelope with {@code extra} fields after the required ones. */
    private static String chatEnvelope(String extra) {
        return "{'api': 'chat.completions', 'request': " + CHAT + ", 'prompt_token_ids': [1, 2, 3],"
                + " 'tenant_id': 'acme', 'cache_salt': '" + SALT_BASE64 + "'" + extra + "}";
    }

    @Test
    void parseGenerate_chatEnvelope_everyFieldParsed() {
        GenerateRequest request = parse(chatEnvelope(", 'num_published_blocks': 2, 'request_id': 'req-1.a:B_9'"));

        assertThat(request.api()).isEqualTo(Api.CHAT);
        assertThat(request.chat()).isEqualTo(OpenAiRequests.parseChat(json(CHAT), Limits.DEFAULT));
        assertThat(request.completion()).isNull();
        assertThat(request.promptTokenIds()).containsExactly(1, 2, 3);
        assertThat(request.tenantId()).isEqualTo("acme");
        assertThat(request.cacheSalt()).isEqualTo(SALT);
        assertThat(request.numPublishedBlocks()).isEqualTo(2);
        assertThat(request.requestId()).isEqualTo("req-1.a:B_9");
        assertThat(request.params().temperature()).isEqualTo(0.5);
    }

    @Test
    void parseGenerate_completionEnvelopeWithoutOptionals_defaults() {
        GenerateRequest request = parse("{'api': 'completions', 'request': {'model': 'm', 'prompt': [5, 6],"
                + " 'stream': true}, 'prompt_token_ids': [5, 6], 'tenant_id': 't',"
                + " 'cache_salt': '" + SALT_BASE64 + "'}");

        assertThat(request.api()).isEqualTo(Api.COMPLETIONS);
        assertThat(request.chat()).isNull();
        assertThat(request.completion().prompt()).isInstanceOfSatisfying(Prompt.TokenIds.class,
                ids -> assertThat(ids.ids()).containsExactly(5, 6));
        assertThat(request.stream()).isTrue();
        assertThat(request.numPublishedBlocks()).isZero();
        assertThat(request.requestId()).isNull();
    }

    static Stream<Arguments> badEnvelopes() {
        String salt = ", 'cache_salt': '" + SALT_BASE64 + "'";
        String base = "'api': 'chat.completions', 'request': " + CHAT + ", 'prompt_token_ids': [1]";
        return Stream.of(
                arguments("{" + base + salt + "}", "tenant_id", "'tenant_id' is required"),
                arguments("{" + base + salt + ", 'tenant_id': ''}", "tenant_id", "non-empty string"),
                arguments("{" + base + salt + ", 'tenant_id': 7}", "tenant_id", "got 7"),
                arguments("{" + base + salt + ", 'tenant_id': '" + "t".repeat(129) + "'}", "tenant_id",
                        "at most 128 characters"),
                arguments(chatEnvelope(", 'foo': 1"), "foo", "Unrecognized request argument supplied: foo"),
                arguments(chatEnvelope(", 'num_published_blocks': -1"), "num_published_blocks", ">= 0, got -1"),
                arguments(chatEnvelope(", 'request_id': 'a b'"), "request_id", "got \"a b\""),
                arguments(chatEnvelope(", 'request_id': 'a/b'"), "request_id", "characters of A-Z, a-z, 0-9"),
                arguments(chatEnvelope(", 'request_id': ''"), "request_id", "1..256 characters"),
                arguments(chatEnvelope(", 'request_id': '" + "r".repeat(257) + "'"), "request_id", "1..256"),
                arguments(chatEnvelope(", 'request_id': 5"), "request_id", "must be a string"),
                arguments("{'api': 'embeddings', 'request': {}}", "api",
                        "\"chat.completions\" or \"completions\", got \"embeddings\""),
                arguments("{'request': {}}", "api", "'api' is required"),
                arguments("{'api': 'completions'}", "request", "'request' is required"),
                arguments("{'api': 'completions', 'request': 'x'}", "request", "must be an object"),
                arguments("{'api': 'chat.completions', 'request': {'model': 'm', 'messages': [{'role': 'user',"
                        + " 'content': 'x'}], 'temperature': 3}}", "request.temperature",
                        "'request.temperature' must be a number in 0..2, got 3"),
                arguments("{'api': 'chat.completions', 'request': {'model': 'm', 'messages': [{'role': 'bot'}]}}",
                        "request.messages[0].role", "got \"bot\""),
                arguments("{'api': 'completions', 'request': " + CHAT + "}", "request.messages",
                        "Unrecognized request argument supplied: request.messages"),
                arguments("{'api': 'chat.completions', 'request': " + CHAT + ", 'tenant_id': 't'}", "prompt_token_ids",
                        "'prompt_token_ids' is required"),
                arguments("{'api': 'chat.completions', 'request': " + CHAT + ", 'prompt_token_ids': []}",
                        "prompt_token_ids", "non-empty array of token ids"),
                arguments("{'api': 'chat.completions', 'request': " + CHAT + ", 'prompt_token_ids': [1, -2]}",
                        "prompt_token_ids[1]", "got -2"),
                arguments("{" + base + ", 'tenant_id': 't'}", "cache_salt", "'cache_salt' is required"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badEnvelopes")
    void parseGenerate_badEnvelope_400NamingParam(String body, String param, String messageFragment) {
        OpenAiError error = reject(body);

        assertThat(error.param()).isEqualTo(param);
        assertThat(error.message()).contains(messageFragment);
    }

    @Test
    void parseGenerate_promptTokenIdsOverLimit_400() {
        Limits twoPromptTokens = new Limits(16, 16, 1024, 2);

        OpenAiError error = rejected(() -> OpenAiRequests.parseGenerate(json(chatEnvelope("")), twoPromptTokens));

        assertThat(error.param()).isEqualTo("prompt_token_ids");
        assertThat(error.message()).isEqualTo("'prompt_token_ids' has 3 token ids; at most 2 are allowed");
    }

    @Test
    void parseGenerate_shortSalt_400WithoutEchoingIt() {
        String shortSalt = Base64.getEncoder().encodeToString("8-bytes!".getBytes(StandardCharsets.US_ASCII));

        OpenAiError error = reject(chatEnvelope("").replace(SALT_BASE64, shortSalt));

        assertThat(error.param()).isEqualTo("cache_salt");
        assertThat(error.message()).contains("at least 16 bytes, got 8 bytes").doesNotContain(shortSalt, "8-bytes!");
    }

    @Test
    void parseGenerate_saltNotBase64_400WithoutEchoingIt() {
        String notBase64 = "s3cr3t*not*base64!!";

        OpenAiError error = reject(chatEnvelope("").replace(SALT_BASE64, notBase64));

        assertThat(error.param()).isEqualTo("cache_salt");
        assertThat(error.message()).contains("must be standard base64").doesNotContain(notBase64, "s3cr3t");
    }

    @Test
    void parseGenerate_saltNotAString_400NamingOnlyItsType() {
        OpenAiError error = reject(chatEnvelope("").replace("'" + SALT_BASE64 + "'", "123456789"));

        assertThat(error.param()).isEqualTo("cache_salt");
        assertThat(error.message()).isEqualTo("'cache_salt' must be a base64 string, got a number");
    }
}
