package io.kvserve.inference.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.engine.EngineStats;
import io.kvserve.inference.ServerTestBase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;

/** Token streams as a client sees them on the wire, cancellation mid-stream included. */
class StreamingTest extends ServerTestBase {

    private Flux<String> stream(String body) {
        return web.post().uri("/v1/completions").contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .accept(MediaType.TEXT_EVENT_STREAM).exchange()
                .expectStatus().isOk()
                .expectHeader().contentTypeCompatibleWith(MediaType.TEXT_EVENT_STREAM)
                .returnResult(String.class).getResponseBody();
    }

    @Test
    void stream_framesAreChunksThenUsageThenDone() {
        Flux<String> events = stream("""
                {"model":"tiny","prompt":"Hello","max_tokens":5,"temperature":0,"ignore_eos":true,
                 "stream":true,"stream_options":{"include_usage":true}}""");

        List<String> data = new ArrayList<>();
        StepVerifier.create(events).recordWith(() -> data).thenConsumeWhile(e -> true).verifyComplete();

        assertThat(data.getLast()).isEqualTo("[DONE]");
        JsonNode usage = OpenAiJson.MAPPER.readTree(data.get(data.size() - 2));
        assertThat(usage.get("choices").size()).isZero();
        assertThat(usage.get("usage").get("completion_tokens").asInt()).isEqualTo(5);
        List<JsonNode> chunks = data.subList(0, data.size() - 2).stream().map(OpenAiJson.MAPPER::readTree).toList();
        assertThat(chunks).allSatisfy(c -> {
            assertThat(c.get("object").asString()).isEqualTo("text_completion");
            assertThat(c.get("usage").isNull()).isTrue();
        });
        assertThat(chunks.getLast().get("choices").get(0).get("finish_reason").asString()).isEqualTo("length");
    }

    @Test
    void cancelMidStream_abortsTheRequestAndFreesItsBlocks() throws InterruptedException {
        awaitEngineIdle();
        EngineStats before = host.stats().orElseThrow();
        Flux<String> events = stream("""
                {"model":"tiny","prompt":"Count forever","max_tokens":400,"temperature":0,"ignore_eos":true,
                 "stream":true}""");

        StepVerifier.create(events, 1)
                .expectNextCount(1)
                .thenRequest(3)
                .expectNextCount(3)
                .then(() -> assertThat(host.stats().orElseThrow().numRunning()).as("running while streamed").isEqualTo(1))
                .thenRequest(3)
                .expectNextCount(3)
                .thenCancel()
                .verify(Duration.ofSeconds(30));

        awaitEngineIdle();
        EngineStats after = host.stats().orElseThrow();
        assertThat(after.numRunning()).isZero();
        // the aborted request's blocks are back: free blocks as before (cached ones count as free)
        assertThat(after.numFreeBlocks()).isEqualTo(before.numFreeBlocks());
        assertThat(after.generationTokens() - before.generationTokens()).as("generation stopped early").isLessThan(400);
    }
}
