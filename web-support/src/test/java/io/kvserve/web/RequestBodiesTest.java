package io.kvserve.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.codec.HttpMessageReader;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.reactive.function.server.ServerRequest;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

class RequestBodiesTest {

    private static final List<HttpMessageReader<?>> READERS = ServerCodecConfigurer.create().getReaders();

    private static ServerRequest request(MockServerHttpRequest http) {
        return ServerRequest.create(MockServerWebExchange.from(http), READERS);
    }

    private static DataBuffer buffer(String text) {
        return DefaultDataBufferFactory.sharedInstance.wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void bodyInPieces_underTheLimit_comesWhole() {
        ServerRequest request = request(MockServerHttpRequest.post("/x").body(Flux.just(buffer("{\"a\":"), buffer("1}"))));
        StepVerifier.create(RequestBodies.bytes(request, 64))
                .assertNext(bytes -> assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}"))
                .verifyComplete();
    }

    @Test
    void noBody_isEmpty() {
        StepVerifier.create(RequestBodies.bytes(request(MockServerHttpRequest.post("/x").build()), 64))
                .assertNext(bytes -> assertThat(bytes).isEmpty()).verifyComplete();
    }

    @Test
    void bodyGrowingPastTheLimit_is413() {
        ServerRequest request = request(MockServerHttpRequest.post("/x")
                .body(Flux.just(buffer("x".repeat(40)), buffer("y".repeat(40)))));
        StepVerifier.create(RequestBodies.bytes(request, 64))
                .expectErrorSatisfies(e -> assertThat(((OpenAiException) e).status()).isEqualTo(413)).verify();
    }

    @Test
    void declaredLengthPastTheLimit_isRefusedBeforeReading() {
        ServerRequest request = request(MockServerHttpRequest.post("/x").contentLength(1000).body(Flux.never()));
        StepVerifier.create(RequestBodies.bytes(request, 64, () -> new IllegalStateException("too big")))
                .expectErrorMessage("too big").verify();
    }
}
