package io.kvserve.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.PlacementAnswer;
import io.kvserve.common.openai.PlacementAnswer.Target;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;

/**
 * The relay against upstreams that misbehave on purpose (a real HTTP server, each path one way of
 * failing), which real instances do only now and then: refused connections, 503, a 400 about the
 * request, a stream cut after two events, a first token too late, a stream without [DONE].
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RelayTest {

    private static final String CHUNK = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"text\":\"x\"}],\"usage\":null}\n\n";
    private static final String USAGE = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
            + "\"completion_tokens\":3,\"total_tokens\":8,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n";
    private static final String DONE = "data: [DONE]\n\n";

    private DisposableServer server;
    private String base;
    private SimpleMeterRegistry meters;
    private CircuitBreakerRegistry breakers;
    private Relay relay;

    @BeforeAll
    void start() {
        server = HttpServer.create().host("127.0.0.1").port(0).route(routes -> routes
                .post("/ok/internal/v1/generate", (req, res) -> res.header("content-type", "text/event-stream")
                        .sendString(Flux.just(CHUNK, CHUNK, CHUNK, USAGE, DONE)))
                .post("/busy/internal/v1/generate", (req, res) -> res.status(503).header("retry-after", "7")
                        .header("content-type", "application/json")
                        .sendString(Mono.just("{\"error\":{\"message\":\"draining\",\"type\":\"service_unavailable\","
                                + "\"param\":null,\"code\":\"service_unavailable\"}}")))
                .post("/bad/internal/v1/generate", (req, res) -> res.status(400)
                        .header("content-type", "application/json")
                        .sendString(Mono.just("{\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\","
                                + "\"param\":\"max_tokens\",\"code\":\"context_length_exceeded\"}}")))
                .post("/cut/internal/v1/generate", (req, res) -> res.header("content-type", "text/event-stream")
                        .sendString(Flux.just(CHUNK, CHUNK).concatWith(Mono.delay(Duration.ofMillis(50))
                                .then(Mono.error(new IllegalStateException("crash"))))))
                .post("/slow/internal/v1/generate", (req, res) -> res.header("content-type", "text/event-stream")
                        .sendString(Mono.delay(Duration.ofSeconds(3)).thenMany(Flux.just(CHUNK, DONE))))
                .post("/empty/internal/v1/generate", (req, res) -> res.header("content-type", "text/event-stream")
                        .sendString(Flux.empty()))
                .post("/engine/internal/v1/generate", (req, res) -> res.header("content-type", "text/event-stream")
                        .sendString(Flux.just(CHUNK, "data: {\"error\":{\"message\":\"the engine failed\","
                                + "\"type\":\"server_error\",\"param\":null,\"code\":\"engine_error\"}}\n\n", DONE)))
                .post("/nodone/internal/v1/generate", (req, res) -> res.header("content-type", "text/event-stream")
                        .sendString(Flux.just(CHUNK, CHUNK))))
                .bindNow();
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    void stop() {
        server.disposeNow();
    }

    @BeforeEach
    void relay() {
        meters = new SimpleMeterRegistry();
        breakers = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom().slidingWindowSize(4)
                .minimumNumberOfCalls(4).failureRateThreshold(50).waitDurationInOpenState(Duration.ofMinutes(1))
                .ignoreExceptions(OpenAiException.class).build());
        RoutingProperties routing = new RoutingProperties(URI.create("http://127.0.0.1:1"), Duration.ofSeconds(5),
                Duration.ofSeconds(5), "", Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(1), 64);
        InstanceClient instances = new InstanceClient(WebClient.create(), routing, breakers, BulkheadRegistry.ofDefaults());
        relay = new Relay(instances, new GatewayMetrics(meters));
    }

    private Target target(String behaviour) {
        return new Target(behaviour + "-" + System.nanoTime(), base + "/" + behaviour);
    }

    private RoutedCall call(boolean stream, boolean clientWantsUsage, Target... targets) {
        RoutedCall call = new RoutedCall("r1", "acme", Api.COMPLETIONS, stream, clientWantsUsage, System.nanoTime());
        call.placed(new PlacementAnswer("p1", "m", targets[0], List.of(Arrays.copyOfRange(targets, 1, targets.length)),
                new int[] {1, 2, 3, 4, 5}, 0, "c2FsdA==", "tenant", 4, "combined", "hit", "ok"));
        return call;
    }

    private static List<String> frames(Flux<Frame> frames) {
        return frames.map(f -> new String(f.bytes(), StandardCharsets.UTF_8)).collectList().block(Duration.ofSeconds(20));
    }

    @Test
    void stream_instanceFailsBeforeFirstToken_nextFallbacksTriedInOrder() {
        RoutedCall call = call(true, true, target("busy"), new Target("refused", "http://127.0.0.1:1"), target("ok"));

        assertThat(frames(relay.frames(call, new byte[] {'{', '}'}))).containsExactly(CHUNK, CHUNK, CHUNK, USAGE, DONE);
        assertThat(call.numAttempts).isEqualTo(3);
        assertThat(call.instanceId()).startsWith("ok-");
        assertThat(meters.find("kvserve.gateway.failovers").counters()).hasSize(2);
        assertThat(call.usage().promptTokensDetails().cachedTokens()).isEqualTo(4);
        assertThat(call.chargedTokens()).isEqualTo(8);
    }

    @Test
    void stream_brokenAfterItBegan_isNotRetried_endsWithErrorEventAndDone() {
        RoutedCall call = call(true, false, target("cut"), target("ok"));

        List<String> frames = frames(relay.frames(call, new byte[] {'{', '}'}));
        assertThat(frames).hasSize(4);
        assertThat(frames.subList(0, 2)).containsExactly(CHUNK, CHUNK);
        assertThat(frames.get(2)).startsWith("data: {\"error\":").contains("upstream_failed");
        assertThat(frames.get(3)).isEqualTo(DONE);
        assertThat(call.numAttempts).isEqualTo(1);
        assertThat(call.failedMidStream()).isTrue();
        assertThat(call.chargedTokens()).as("no usage came: the prompt plus one per frame").isEqualTo(5 + 2);
    }

    @Test
    void stream_endedWithoutDone_getsAnErrorEventAndDone() {
        List<String> frames = frames(relay.frames(call(true, false, target("nodone")), new byte[] {'{', '}'}));
        assertThat(frames).hasSize(4);
        assertThat(frames.get(2)).contains("closed the stream before [DONE]");
        assertThat(frames.get(3)).isEqualTo(DONE);
    }

    @Test
    void stream_emptyAnswerFromAnInstance_isAFailureBeforeTheFirstToken_soItFailsOver() {
        RoutedCall call = call(true, false, target("empty"), target("ok"));
        assertThat(frames(relay.frames(call, new byte[] {'{', '}'}))).containsExactly(CHUNK, CHUNK, CHUNK, DONE);
        assertThat(call.numAttempts).isEqualTo(2);
    }

    @Test
    void engineErrorEvents_countAgainstTheInstancesBreaker_nonStreamedMovesOn() {
        Target engine = target("engine");
        for (int i = 0; i < 4; i++) {
            RoutedCall call = call(false, false, engine, target("ok"));
            assertThat(frames(relay.frames(call, new byte[] {'{', '}'}))).hasSize(1);
            assertThat(call.numAttempts).as("the error came before the end: retried").isEqualTo(2);
        }
        assertThat(breakers.circuitBreaker(engine.id()).getState()).isEqualTo(CircuitBreaker.State.OPEN);
    }

    @Test
    void stream_usageChunk_reachesOnlyClientsThatAskedForIt() {
        RoutedCall quiet = call(true, false, target("ok"));
        assertThat(frames(relay.frames(quiet, new byte[] {'{', '}'}))).containsExactly(CHUNK, CHUNK, CHUNK, DONE);
        assertThat(quiet.usage().totalTokens()).as("the gateway still read it").isEqualTo(8);
    }

    @Test
    void requestsFault_comesBackAsTheInstanceWroteIt_notRetried() {
        RoutedCall call = call(true, false, target("bad"), target("ok"));
        assertThatThrownBy(() -> frames(relay.frames(call, new byte[] {'{', '}'})))
                .isInstanceOfSatisfying(OpenAiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.error().code()).isEqualTo("context_length_exceeded");
                    assertThat(e.error().param()).isEqualTo("max_tokens");
                });
        assertThat(call.numAttempts).isEqualTo(1);
    }

    @Test
    void firstTokenTooLate_failsOverToTheNextInstance() {
        RoutedCall call = call(true, false, target("slow"), target("ok"));
        long started = System.nanoTime();
        assertThat(frames(relay.frames(call, new byte[] {'{', '}'}))).endsWith(DONE).contains(CHUNK);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
        assertThat(call.numAttempts).isEqualTo(2);
    }

    @Test
    void everyInstanceRefuses_theLastRefusalIsAnswered() {
        RoutedCall call = call(false, false, target("busy"), target("busy"));
        assertThatThrownBy(() -> frames(relay.frames(call, new byte[] {'{', '}'})))
                .isInstanceOfSatisfying(OpenAiException.class, e -> {
                    assertThat(e.status()).isEqualTo(503);
                    assertThat(e.retryAfter()).hasValue(Duration.ofSeconds(7));
                });
    }

    @Test
    void failingInstance_opensItsBreaker_thenFailsFastToTheFallback() {
        Target busy = target("busy");
        for (int i = 0; i < 4; i++) {
            frames(relay.frames(call(false, false, busy, target("ok")), new byte[] {'{', '}'}));
        }
        assertThat(breakers.circuitBreaker(busy.id()).getState()).isEqualTo(CircuitBreaker.State.OPEN);

        RoutedCall call = call(false, false, busy, target("ok"));
        assertThat(frames(relay.frames(call, new byte[] {'{', '}'}))).hasSize(1);
        assertThat(meters.find("kvserve.gateway.failovers").tag("reason", "circuit_open").counter().count())
                .isEqualTo(1);
    }

    @Test
    void nonStreamed_isAssembledFromTheStream_andRetriedEvenAfterTokensCame() {
        RoutedCall call = call(false, false, target("cut"), target("ok"));

        List<String> frames = frames(relay.frames(call, new byte[] {'{', '}'}));
        assertThat(frames).hasSize(1);
        JsonNode response = OpenAiJson.MAPPER.readTree(frames.getFirst());
        assertThat(response.path("object").asString()).isEqualTo("text_completion");
        assertThat(response.path("choices").get(0).path("text").asString()).isEqualTo("xxx");
        assertThat(response.path("usage").path("total_tokens").asInt()).isEqualTo(8);
        assertThat(call.numAttempts).as("the cut stream had sent tokens; the client had seen none").isEqualTo(2);
        assertThat(call.usage().promptTokensDetails().cachedTokens()).isEqualTo(4);
    }

    @Test
    void requestsFaults_doNotOpenTheBreaker() {
        Target bad = target("bad");
        for (int i = 0; i < 6; i++) {
            RoutedCall call = call(false, false, bad);
            assertThatThrownBy(() -> frames(relay.frames(call, new byte[] {'{', '}'})))
                    .isInstanceOf(OpenAiException.class);
        }
        assertThat(breakers.circuitBreaker(bad.id()).getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
}
