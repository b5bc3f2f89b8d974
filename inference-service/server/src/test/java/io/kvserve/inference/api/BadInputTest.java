package io.kvserve.inference.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.inference.ServerTestBase;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.http.MediaType;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;

/**
 * Every kind of bad request gets a 4xx with an OpenAI error body that names what is wrong, and none
 * of them disturbs a stream in flight.
 */
class BadInputTest extends ServerTestBase {

    static Stream<Arguments> badBodies() {
        String manyStops = "[" + String.join(",", java.util.Collections.nCopies(5000, "\"x\"")) + "]";
        return Stream.of(
                Arguments.of("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[", 400, null),
                Arguments.of("/v1/chat/completions", "", 400, null),
                Arguments.of("/v1/chat/completions", "[1,2]", 400, null),
                Arguments.of("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":\"hi\"}", 400, "messages"),
                Arguments.of("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[]}", 400, "messages"),
                Arguments.of("/v1/chat/completions",
                        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"colour\":1}", 400, "colour"),
                Arguments.of("/v1/chat/completions",
                        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":NaN}", 400, null),
                Arguments.of("/v1/chat/completions",
                        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":\"hot\"}", 400, "temperature"),
                Arguments.of("/v1/chat/completions",
                        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":-3}", 400, "max_tokens"),
                Arguments.of("/v1/chat/completions",
                        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1.5}", 400, "max_tokens"),
                Arguments.of("/v1/chat/completions",
                        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":1000}", 400, "n"),
                Arguments.of("/v1/completions",
                        "{\"model\":\"tiny\",\"prompt\":\"hi\",\"stop\":" + manyStops + "}", 400, "stop"),
                Arguments.of("/v1/completions",
                        "{\"model\":\"tiny\",\"prompt\":\"hi\",\"logit_bias\":{\"5000\":3}}", 400, "logit_bias"),
                Arguments.of("/v1/completions", "{\"model\":\"tiny\",\"prompt\":[1,2,99999]}", 400, "prompt"),
                Arguments.of("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"hi\",\"max_tokens\":600}", 400, "max_tokens"),
                Arguments.of("/v1/completions", "{\"model\":\"other\",\"prompt\":\"hi\"}", 404, "model"));
    }

    @ParameterizedTest
    @MethodSource("badBodies")
    void badBody_getsAnOpenAiErrorNamingTheParameter(String path, String body, int status, String param) {
        JsonNode error = post(path, body.getBytes(StandardCharsets.UTF_8), status);
        assertThat(error.get("message").asString()).isNotBlank();
        assertThat(error.get("type").asString()).isNotBlank();
        if (param != null) {
            assertThat(error.get("param").asString()).isEqualTo(param);
        }
    }

    @Test
    void invalidUtf8_is400() {
        byte[] body = "{\"model\":\"tiny\",\"prompt\":\"a\u0000\"}".getBytes(StandardCharsets.UTF_8);
        body[body.length - 3] = (byte) 0xC3; // a lead byte followed by '"': not UTF-8
        JsonNode error = post("/v1/completions", body, 400);
        assertThat(error.get("message").asString()).containsIgnoringCase("utf-8");
    }

    @Test
    void hugeBody_is413() {
        byte[] body = ("{\"model\":\"tiny\",\"prompt\":\"" + "a".repeat(100_000) + "\"}").getBytes(StandardCharsets.UTF_8);
        JsonNode error = post("/v1/completions", body, 413);
        assertThat(error.get("message").asString()).contains("larger than");
    }

    @Test
    void promptLongerThanContext_is400ContextLengthExceeded() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            ids.add(Integer.toString(5 + i % 500));
        }
        JsonNode error = post("/v1/completions", ("{\"model\":\"tiny\",\"prompt\":[" + String.join(",", ids) + "]}")
                .getBytes(StandardCharsets.UTF_8), 400);
        assertThat(error.get("code").asString()).isEqualTo("context_length_exceeded");
        assertThat(error.get("param").asString()).isEqualTo("prompt");
    }

    @Test
    void unknownRoute_is404WithOpenAiBody() {
        JsonNode error = post("/v1/embeddings", "{}".getBytes(StandardCharsets.UTF_8), 404);
        assertThat(error.get("code").asString()).isEqualTo("unknown_url");
    }

    @Test
    void badRequests_duringAStream_leaveItIntact() {
        Flux<String> events = web.post().uri("/v1/completions").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"model\":\"tiny\",\"prompt\":\"Keep going\",\"max_tokens\":60,\"temperature\":0,"
                        + "\"ignore_eos\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true}}")
                .exchange().expectStatus().isOk().returnResult(String.class).getResponseBody();

        List<String> data = new ArrayList<>();
        StepVerifier.create(events)
                .recordWith(() -> data)
                .expectNextCount(2)
                .then(() -> badBodies().forEach(args -> post((String) args.get()[0],
                        ((String) args.get()[1]).getBytes(StandardCharsets.UTF_8), (int) args.get()[2])))
                .thenConsumeWhile(e -> true)
                .verifyComplete();

        assertThat(data.getLast()).isEqualTo("[DONE]");
        JsonNode usage = OpenAiJson.MAPPER.readTree(data.get(data.size() - 2));
        assertThat(usage.get("usage").get("completion_tokens").asInt()).isEqualTo(60);
    }

    private JsonNode post(String path, byte[] body, int status) {
        byte[] response = web.post().uri(path).contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange()
                .expectStatus().isEqualTo(status)
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_JSON)
                .expectBody().returnResult().getResponseBody();
        JsonNode root = OpenAiJson.MAPPER.readTree(response);
        assertThat(root.has("error")).as("OpenAI error body: %s", new String(response, StandardCharsets.UTF_8)).isTrue();
        return root.get("error");
    }
}
