package io.kvserve.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The gateway as tenants use it, through the official OpenAI Java client, in front of the real
 * platform: Redis, kvshare, the scheduler and two inference instances (separate processes) on a
 * generated model. Tenants and keys are made through the gateway's admin API. The last tests freeze
 * and then kill an instance.
 */
@RealRedis
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayEndToEndTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private LocalPlatform platform;
    private String instanceA;
    private String instanceB;
    private String key;
    private String modelsOnlyKey;
    private String tightKey;
    private OpenAIClient client;

    @BeforeAll
    void start(RedisEndpoint redis, @TempDir Path dir) throws Exception {
        platform = new LocalPlatform(redis.uri(), dir);
        instanceA = "a-" + platform.run;
        instanceB = "b-" + platform.run;
        platform.startInstance(instanceA);
        platform.startInstance(instanceB);
        platform.startServices("--gateway.api.max-request-size=64KB", "--gateway.api.request-read-timeout=2s",
                "--gateway.routing.first-token-timeout=3s");
        platform.awaitInstancesReady();

        String tenant = "acme-" + platform.run;
        admin("/admin/v1/tenants", "{\"id\":\"" + tenant + "\"}", 201);
        key = admin("/admin/v1/tenants/" + tenant + "/keys", "{\"name\":\"app\"}", 201).path("key").asString();
        modelsOnlyKey = admin("/admin/v1/tenants/" + tenant + "/keys", "{\"name\":\"lister\",\"scopes\":[\"models\"]}",
                201).path("key").asString();
        String tight = "tight-" + platform.run;
        admin("/admin/v1/tenants", "{\"id\":\"" + tight + "\",\"limits\":{\"requests_per_minute\":2}}", 201);
        tightKey = admin("/admin/v1/tenants/" + tight + "/keys", "{\"name\":\"app\"}", 201).path("key").asString();

        client = client(key);
        // the instances have registered and the scheduler has seen them
        LocalPlatform.await(() -> post("/v1/completions", key, completion("hi", 2, false)).statusCode() == 200,
                "the first request is placed", Duration.ofSeconds(30));
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    // ---- serving

    @Test
    @Order(1)
    void chat_nonStreamed_throughTheOfficialClient() {
        ChatCompletion completion = client.chat().completions().create(chat("Hello there", 8).build());

        assertThat(completion.model()).isEqualTo(platform.model);
        assertThat(completion.choices()).hasSize(1);
        assertThat(completion.choices().getFirst().message().content()).isPresent();
        assertThat(completion.usage()).isPresent();
        assertThat(completion.usage().get().completionTokens()).isEqualTo(8);
    }

    @Test
    @Order(2)
    void chat_streamed_equalsNonStreamed_andUsageComesOnlyWhenAsked() throws Exception {
        String expected = client.chat().completions().create(chat("Tell me a story", 12).build()).choices()
                .getFirst().message().content().orElseThrow();
        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(
                chat("Tell me a story", 12).streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true)
                        .build()).build())) {
            stream.stream().forEach(chunk -> {
                chunks.add(chunk);
                chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
            });
        }
        assertThat(text.toString()).isEqualTo(expected);
        assertThat(chunks.getLast().usage()).isPresent();
        assertThat(chunks.getLast().usage().get().completionTokens()).isEqualTo(12);

        // the gateway always asks the instance for usage (to reconcile the token quota); a client that
        // did not ask must not get the usage chunk
        String raw = post("/v1/chat/completions", key, "{\"model\":\"" + platform.model + "\",\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"max_tokens\":12,\"temperature\":0,"
                + "\"stream\":true}").body();
        assertThat(raw).endsWith("data: [DONE]\n\n").doesNotContain("\"usage\":{").doesNotContain("\"error\"");
    }

    @Test
    @Order(3)
    void completions_andModels_throughTheOfficialClient() {
        Completion completion = client.completions().create(CompletionCreateParams.builder()
                .model(platform.model).prompt("Once upon a time").maxTokens(6).temperature(0.0).build());
        assertThat(completion.choices().getFirst().text()).isNotEmpty();
        assertThat(client.models().list().data()).extracting(m -> m.id()).contains(platform.model);
        withClient(modelsOnlyKey, lister -> {
            assertThat(lister.models().list().data()).extracting(m -> m.id()).contains(platform.model);
        });
    }

    @Test
    @Order(4)
    void requestId_followsTheRequest_andAnInsaneOneIsReplaced() throws Exception {
        HttpResponse<String> given = send(request("/v1/completions", key, completion("hi", 2, false))
                .header("x-request-id", "trace-123.abc"));
        assertThat(given.headers().firstValue("x-request-id")).hasValue("trace-123.abc");
        assertThat(OpenAiJson.MAPPER.readTree(given.body()).path("id").asString()).isEqualTo("cmpl-trace-123.abc");

        HttpResponse<String> insane = send(request("/v1/completions", key, completion("hi", 2, false))
                .header("x-request-id", "<script>alert(1)</script>"));
        assertThat(insane.statusCode()).isEqualTo(200);
        assertThat(insane.headers().firstValue("x-request-id").orElseThrow()).matches("[0-9a-f-]{36}");
    }

    // ---- tenants, keys, quotas

    @Test
    @Order(10)
    void wrongMissingOrMalformedKey_is401() throws Exception {
        withClient("sk-kvs-" + "x".repeat(43), stranger -> {
            assertThatThrownBy(() -> stranger.chat().completions().create(chat("hi", 2).build()))
                    .isInstanceOf(UnauthorizedException.class);
        });
        assertError(post("/v1/completions", null, completion("hi", 2, false)), 401, null);
        assertError(send(request("/v1/completions", null, completion("hi", 2, false))
                .header("authorization", "Basic dXNlcjpwYXNz")), 401, null);
        assertError(send(request("/v1/completions", null, completion("hi", 2, false))
                .header("authorization", "Bearer " + "y".repeat(5000))), 401, null);
    }

    @Test
    @Order(11)
    void keyWithoutTheScope_is403() {
        withClient(modelsOnlyKey, lister -> {
            assertThatThrownBy(() -> lister.chat().completions().create(chat("hi", 2).build()))
                    .isInstanceOf(PermissionDeniedException.class);
        });
    }

    @Test
    @Order(12)
    void requestsPerMinuteExhausted_is429WithRetryAfterAndRateLimitHeaders() throws Exception {
        HttpResponse<String> first = post("/v1/completions", tightKey, completion("hi", 2, false));
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("x-ratelimit-limit-requests")).hasValue("2");
        assertThat(post("/v1/completions", tightKey, completion("hi", 2, false)).statusCode()).isEqualTo(200);

        HttpResponse<String> third = post("/v1/completions", tightKey, completion("hi", 2, false));
        assertError(third, 429, null);
        long retryAfter = Long.parseLong(third.headers().firstValue("retry-after").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 60L);
        assertThat(third.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
        withClient(tightKey, tight -> {
            assertThatThrownBy(() -> tight.completions().create(CompletionCreateParams.builder()
                    .model(platform.model).prompt("hi").maxTokens(2).build())).isInstanceOf(RateLimitException.class);
        });
    }

    // ---- bad input

    @Test
    @Order(20)
    void badRequests_getOpenAiErrorsWithTheRightStatus() throws Exception {
        assertError(post("/v1/chat/completions", key, "{\"model\": "), 400, null);
        assertError(post("/v1/chat/completions", key, "[1,2]"), 400, null);
        assertError(post("/v1/chat/completions", key, "{\"model\":\"" + platform.model + "\",\"messages\":"
                + "[{\"role\":\"wizard\",\"content\":\"hi\"}]}"), 400, "messages[0].role");
        assertError(post("/v1/completions", key, "{\"model\":\"" + platform.model + "\",\"prompt\":\"hi\","
                + "\"temperature\":\"hot\"}"), 400, "temperature");
        HttpResponse<String> unknown = post("/v1/completions", key, "{\"model\":\"nope\\r\\nSet-Cookie: a=b\","
                + "\"prompt\":\"hi\"}");
        assertError(unknown, 404, "model");
        assertThat(unknown.headers().firstValue("set-cookie")).isEmpty();
        assertError(post("/v1/completions", key, "{\"model\":\"" + platform.model + "\",\"prompt\":\""
                + "x".repeat(70_000) + "\"}"), 413, null);
        assertError(send(HttpRequest.newBuilder(URI.create(platform.gatewayUrl + "/v1/nothing"))
                .header("authorization", "Bearer " + key).GET()), 404, null);
        assertError(send(HttpRequest.newBuilder(URI.create(platform.gatewayUrl + "/v1/completions"))
                .header("authorization", "Bearer " + key).GET()), 405, null);
    }

    @Test
    @Order(21)
    void contextTooLong_isTheInstancesOwn400_andNotRetriedElsewhere() throws Exception {
        HttpResponse<String> response = post("/v1/completions", key, "{\"model\":\"" + platform.model
                + "\",\"prompt\":\"hi\",\"max_tokens\":1000000}");
        assertError(response, 400, null);
        assertThat(response.body()).contains("context_length_exceeded");
    }

    @Test
    @Order(22)
    void slowClient_isCutOff_whileOthersAreServed() throws Exception {
        URI gateway = URI.create(platform.gatewayUrl);
        try (Socket slowHeaders = new Socket(gateway.getHost(), gateway.getPort());
             Socket slowBody = new Socket(gateway.getHost(), gateway.getPort())) {
            slowHeaders.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Slow: 1"
                    .getBytes(StandardCharsets.US_ASCII));
            OutputStream body = slowBody.getOutputStream();
            body.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"model\":")
                    .getBytes(StandardCharsets.US_ASCII));
            body.flush();
            long started = System.nanoTime();

            assertThat(post("/v1/completions", key, completion("hi", 2, false)).statusCode())
                    .as("others are served meanwhile").isEqualTo(200);
            assertClosedWithin(slowHeaders, Duration.ofSeconds(10));
            String answer = readAll(slowBody, Duration.ofSeconds(10));
            assertThat(answer).as("the slow body gets 408 or a closed connection").satisfiesAnyOf(
                    a -> assertThat(a).startsWith("HTTP/1.1 408"), a -> assertThat(a).isEmpty());
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(12));
        }
    }

    @Test
    @Order(23)
    void clientDisconnect_cancelsTheInstancesWork() throws Exception {
        double abortedBefore = numAborted();
        HttpResponse<InputStream> response = http.send(request("/v1/completions", key,
                "{\"model\":\"" + platform.model + "\",\"prompt\":\"go on\",\"max_tokens\":1900,"
                        + "\"ignore_eos\":true,\"stream\":true}").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        for (int numEvents = 0; numEvents < 3; ) {
            String line = reader.readLine();
            assertThat(line).as("the stream is open").isNotNull();
            if (line.startsWith("data: ")) {
                numEvents++;
            }
        }
        response.body().close();

        LocalPlatform.await(() -> numAborted() == abortedBefore + 1, "the instance aborts the abandoned request",
                Duration.ofSeconds(10));
    }

    @Test
    @Order(24)
    void nonStreamed_isWhatTheInstanceItselfAnswers() throws Exception {
        String body = "{\"model\":\"" + platform.model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                + "\"max_tokens\":6,\"temperature\":0,\"logprobs\":true,\"top_logprobs\":2,\"n\":2}";
        JsonNode viaGateway = OpenAiJson.MAPPER.readTree(post("/v1/chat/completions", key, body).body());
        JsonNode direct = OpenAiJson.MAPPER.readTree(http.send(HttpRequest.newBuilder(URI.create(
                        platform.instanceUrl(instanceB) + "/v1/chat/completions")).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).body());
        for (String field : List.of("id", "created")) {
            ((tools.jackson.databind.node.ObjectNode) viaGateway).remove(field);
            ((tools.jackson.databind.node.ObjectNode) direct).remove(field);
        }
        ((tools.jackson.databind.node.ObjectNode) viaGateway.path("usage")).remove("prompt_tokens_details");
        ((tools.jackson.databind.node.ObjectNode) direct.path("usage")).remove("prompt_tokens_details");
        // logprobs may differ in the last float digits: a prefix-cache hit computes the prompt's KV in
        // other chunks than a cold prefill
        assertSameJson(viaGateway, direct, "$");

        String completion = "{\"model\":\"" + platform.model + "\",\"prompt\":\"Once upon\",\"max_tokens\":5,"
                + "\"temperature\":0,\"logprobs\":2,\"echo\":true}";
        JsonNode viaGatewayText = OpenAiJson.MAPPER.readTree(post("/v1/completions", key, completion).body());
        JsonNode directText = OpenAiJson.MAPPER.readTree(http.send(HttpRequest.newBuilder(URI.create(
                        platform.instanceUrl(instanceB) + "/v1/completions")).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(completion)).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertSameJson(viaGatewayText.path("choices"), directText.path("choices"), "$.choices");
    }

    // ---- failures of instances (last: they freeze and kill one)

    @Test
    @Order(90)
    void frozenInstance_requestsFailOverAfterTheFirstTokenTimeout_noneHang() throws Exception {
        signal("STOP", instanceA);
        try {
            // pairs at a time, so that the scheduler (which still lists the frozen instance) places on it
            for (int batch = 0; batch < 6 && !failedOver(instanceA, "timeout"); batch++) {
                List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    calls.add(http.sendAsync(request("/v1/completions", key, completion("frozen " + batch + i, 4, false))
                            .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString()));
                }
                for (CompletableFuture<HttpResponse<String>> call : calls) {
                    HttpResponse<String> response = call.get(20, TimeUnit.SECONDS);
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                }
            }
            assertThat(failedOver(instanceA, "timeout")).as("a request placed on the frozen instance moved on")
                    .isTrue();
        } finally {
            signal("CONT", instanceA);
        }
    }

    @Test
    @Order(91)
    void killedInstance_streamsOnItEndCleanly_laterRequestsSucceedElsewhere() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            streams.add(http.sendAsync(request("/v1/completions", key, "{\"model\":\"" + platform.model
                    + "\",\"prompt\":\"story " + i + "\",\"max_tokens\":400,\"ignore_eos\":true,\"stream\":true}")
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        LocalPlatform.await(() -> numRunning(instanceA) > 0, "streams run on the instance to kill",
                Duration.ofSeconds(20));
        platform.kill(instanceA);

        // the registry still lists the dead instance (its registration has not expired): requests placed
        // on it move on before their first token
        List<CompletableFuture<HttpResponse<String>>> after = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            after.add(http.sendAsync(request("/v1/chat/completions", key, "{\"model\":\"" + platform.model
                    + "\",\"messages\":[{\"role\":\"user\",\"content\":\"after the crash " + i + "\"}],"
                    + "\"max_tokens\":4}").timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> call : after) {
            HttpResponse<String> response = call.get(30, TimeUnit.SECONDS);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        }

        int numBroken = 0;
        for (CompletableFuture<HttpResponse<String>> stream : streams) {
            HttpResponse<String> response = stream.get(60, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).as("every stream ends, broken or not").endsWith("data: [DONE]\n\n");
            if (response.body().contains("\"code\":\"upstream_failed\"")) {
                numBroken++;
            }
        }
        assertThat(numBroken).as("the streams on the killed instance end with an error event").isPositive();
        assertThat(client.chat().completions().create(chat("still there?", 4).build()).choices()).hasSize(1);
    }

    // ---- helpers

    private ChatCompletionCreateParams.Builder chat(String user, int maxTokens) {
        return ChatCompletionCreateParams.builder().model(platform.model).addUserMessage(user)
                .maxCompletionTokens(maxTokens).temperature(0.0);
    }

    private String completion(String prompt, int maxTokens, boolean stream) {
        return "{\"model\":\"" + platform.model + "\",\"prompt\":\"" + prompt + "\",\"max_tokens\":" + maxTokens
                + ",\"ignore_eos\":true,\"stream\":" + stream + "}";
    }

    private OpenAIClient client(String apiKey) {
        return OpenAIOkHttpClient.builder().baseUrl(platform.gatewayUrl + "/v1").apiKey(apiKey).maxRetries(0)
                .responseValidation(true).timeout(Duration.ofSeconds(30)).build();
    }

    private void withClient(String apiKey, java.util.function.Consumer<OpenAIClient> use) {
        OpenAIClient other = client(apiKey);
        try {
            use.accept(other);
        } finally {
            other.close();
        }
    }

    private JsonNode admin(String path, String body, int expectedStatus) throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(platform.gatewayUrl + path))
                .header("authorization", "Bearer " + LocalPlatform.OPERATOR_TOKEN)
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(expectedStatus);
        return OpenAiJson.MAPPER.readTree(response.body());
    }

    private HttpRequest.Builder request(String path, String apiKey, String body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(platform.gatewayUrl + path))
                .timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null) {
            builder.header("authorization", "Bearer " + apiKey);
        }
        return builder;
    }

    private HttpResponse<String> post(String path, String apiKey, String body) throws Exception {
        return send(request(path, apiKey, body));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertError(HttpResponse<String> response, int status, String param) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("application/json");
        JsonNode error = OpenAiJson.MAPPER.readTree(response.body()).path("error");
        assertThat(error.path("message").asString()).isNotBlank();
        assertThat(error.path("type").asString()).isNotBlank();
        if (param != null) {
            assertThat(error.path("param").asString()).isEqualTo(param);
        }
    }

    /** Equal JSON, numbers with a fraction within 1e-3 (float noise), everything else exactly. */
    private static void assertSameJson(JsonNode actual, JsonNode expected, String path) {
        if (expected.isFloatingPointNumber() && actual.isNumber()) {
            assertThat(actual.asDouble()).as(path).isCloseTo(expected.asDouble(), org.assertj.core.data.Offset.offset(1e-3));
            return;
        }
        assertThat(actual.getNodeType()).as(path).isEqualTo(expected.getNodeType());
        if (expected.isObject()) {
            assertThat(actual.propertyNames()).as(path).containsExactlyInAnyOrderElementsOf(expected.propertyNames());
            for (String name : expected.propertyNames()) {
                assertSameJson(actual.get(name), expected.get(name), path + "." + name);
            }
        } else if (expected.isArray()) {
            assertThat(actual.size()).as(path).isEqualTo(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                assertSameJson(actual.get(i), expected.get(i), path + "[" + i + "]");
            }
        } else {
            assertThat(actual).as(path).isEqualTo(expected);
        }
    }

    private double numAborted() {
        return metric(instanceA, "vllm:request_success_total", "finished_reason=\"abort\"")
                + metric(instanceB, "vllm:request_success_total", "finished_reason=\"abort\"");
    }

    private double metric(String instance, String name, String label) {
        return platform.get(platform.instanceUrl(instance) + "/actuator/prometheus").body().lines()
                .filter(l -> l.startsWith(name + "{") && l.contains(label))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private boolean failedOver(String instance, String reason) {
        return platform.get(platform.gatewayUrl + "/actuator/prometheus").body().lines()
                .anyMatch(l -> l.startsWith("kvserve_gateway_failovers_total{") && l.contains("instance=\"" + instance
                        + "\"") && l.contains("reason=\"" + reason + "\""));
    }

    private void signal(String signal, String instance) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(platform.pid(instance))).start().waitFor())
                .isZero();
    }

    private int numRunning(String instance) {
        String metrics = platform.get(platform.instanceUrl(instance) + "/actuator/prometheus").body();
        Optional<String> line = metrics.lines().filter(l -> l.startsWith("vllm:num_requests_running")).findFirst();
        return line.map(l -> (int) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).orElse(0);
    }

    private static void assertClosedWithin(Socket socket, Duration timeout) throws Exception {
        readAll(socket, timeout);
    }

    /** Reads until the server closes the connection; fails if it stays open past {@code timeout}. */
    private static String readAll(Socket socket, Duration timeout) throws Exception {
        socket.setSoTimeout((int) timeout.toMillis());
        try (InputStream in = socket.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (java.net.SocketTimeoutException e) {
            throw new AssertionError("the connection is still open after " + timeout.toSeconds() + "s");
        } catch (java.net.SocketException e) {
            return ""; // reset by the server: closed
        }
    }
}
