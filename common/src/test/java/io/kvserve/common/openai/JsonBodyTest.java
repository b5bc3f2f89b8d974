package io.kvserve.common.openai;

import static io.kvserve.common.openai.Bodies.json;
import static io.kvserve.common.openai.Bodies.rejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.kvserve.common.openai.OpenAiRequests.Limits;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Body-level refusals, seen through {@link OpenAiRequests#parseChat} as a client sees them. */
class JsonBodyTest {

    private static OpenAiError reject(byte[] body) {
        return rejected(() -> OpenAiRequests.parseChat(body, Limits.DEFAULT));
    }

    private static String nested(int depth) {
        return "[".repeat(depth) + "]".repeat(depth);
    }

    @Test
    void parse_invalidUtf8Bytes_400WithByteOffset() {
        byte[] prefix = "{\"model\":\"".getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[prefix.length + 4];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xC3;
        body[prefix.length + 1] = 0x28;
        body[prefix.length + 2] = '"';
        body[prefix.length + 3] = '}';

        OpenAiError error = reject(body);

        assertThat(error.param()).isNull();
        assertThat(error.message())
                .isEqualTo("the request body is not valid UTF-8: 1 invalid byte(s) at byte offset 10");
    }

    @Test
    void parse_invalidUtf8FarIntoLargeBody_400WithExactOffset() {
        byte[] body = json("{'model': '" + "é".repeat(10_000) + "x'}");
        int badOffset = body.length - 3;
        body[badOffset] = (byte) 0xFF;

        assertThat(reject(body).message()).endsWith("at byte offset " + badOffset);
    }

    @Test
    void parse_loneSurrogateEscape_400NamingValue() {
        OpenAiError error = reject(json("{'model': 'm', 'messages': [{'role': 'user', 'content': 'ab\\ud800c'}]}"));

        assertThat(error.param()).isEqualTo("messages[0].content");
        assertThat(error.message()).contains("unpaired UTF-16 surrogate escape at character 2");
    }

    @Test
    void parse_surrogatePairEscape_decodedToOneCodePoint() {
        ChatCompletionRequest request = OpenAiRequests.parseChat(
                json("{'model': 'm', 'messages': [{'role': 'user', 'content': '\\ud83d\\ude00'}]}"), Limits.DEFAULT);

        assertThat(request.messages().getFirst().content()).isEqualTo("\uD83D\uDE00");
    }

    @Test
    void parse_truncatedUtf8AtEnd_400() {
        byte[] body = {'{', '}', (byte) 0xE2, (byte) 0x82};

        assertThat(reject(body).message()).contains("not valid UTF-8", "byte offset 2");
    }

    static Stream<Arguments> brokenBodies() {
        return Stream.of(
                arguments("{'model': }", "not valid JSON: Unexpected character", "(line 1, column 11)"),
                arguments("{'model': 'm',\n 'temperature': NaN}", "Non-standard token 'NaN'", "(line 2, column"),
                arguments("{'temperature': Infinity}", "NaN and Infinity are not JSON numbers", "line 1"),
                arguments("{'model': 'm'", "Unexpected end-of-input", "line 1"),
                arguments("{} {}", "has more content after the JSON object", "column"),
                arguments("", "the request body is empty", "expected a JSON object"),
                arguments("   ", "the request body is empty", "expected a JSON object"),
                arguments("[{'model': 'm'}]", "must be a JSON object, got an array of 1 element", ""),
                arguments("'text'", "must be a JSON object, got a string", ""),
                arguments("{'n': " + "9".repeat(2000) + "}", "exceeds a parser limit: Number value length (2000)", ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenBodies")
    void parse_brokenBody_400WithoutJacksonInternals(String body, String fragment, String location) {
        OpenAiError error = reject(json(body));

        assertThat(error.param()).isNull();
        assertThat(error.message()).contains(fragment, location)
                .doesNotContain("jackson", "Jackson", "Exception", "`", "Feature", "REDACTED", "\tat ");
    }

    @Test
    void parse_duplicateTopLevelKey_400NamingKey() {
        OpenAiError error = reject(json("{'model': 'a', 'model': 'b'}"));

        assertThat(error.param()).isEqualTo("model");
        assertThat(error.message()).startsWith("the request body gives the key 'model' more than once");
    }

    @Test
    void parse_duplicateKeyInMessage_400NamingPath() {
        OpenAiError error = reject(json(
                "{'model': 'm', 'messages': [{'role': 'user', 'content': 'a', 'role': 'system'}]}"));

        assertThat(error.param()).isEqualTo("messages[0].role");
        assertThat(error.message()).contains("'messages[0].role' more than once");
    }

    @Test
    void parse_nestingDeeperThanLimit_400SayingTheLimit() {
        OpenAiError error = reject(json("{'model': 'm', 'chat_template_kwargs': {'x': "
                + nested(JsonBody.MAX_NESTING_DEPTH) + "}}"));

        assertThat(error.param()).isNull();
        assertThat(error.message()).isEqualTo("the request body nests arrays and objects deeper than 64 levels");
    }

    @Test
    void parse_nestingAtLimit_accepted() {
        // the body object and chat_template_kwargs take two of the 64 levels
        ChatCompletionRequest request = OpenAiRequests.parseChat(json("{'model': 'm', 'messages': [{'role': 'user',"
                + " 'content': 'x'}], 'chat_template_kwargs': {'x': " + nested(JsonBody.MAX_NESTING_DEPTH - 2) + "}}"),
                Limits.DEFAULT);

        assertThat(request.chatTemplateKwargs()).containsKey("x");
    }
}
