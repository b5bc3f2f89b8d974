package io.kvserve.inference.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.inference.ServerTestBase;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.context.TestPropertySource;
import reactor.core.Disposable;

/** A full waiting queue answers 429 with Retry-After; the queued and running requests are untouched. */
@TestPropertySource(properties = {"kvserve.engine.max-num-seqs=1", "kvserve.engine.max-num-waiting=1",
        "kvserve.api.retry-after-seconds=3"})
class QueueFullTest extends ServerTestBase {

    private static final String LONG_STREAM = """
            {"model":"tiny","prompt":"Go on","max_tokens":480,"temperature":0,"ignore_eos":true,"stream":true}""";

    private Disposable start() {
        return web.post().uri("/v1/completions").contentType(MediaType.APPLICATION_JSON).bodyValue(LONG_STREAM)
                .exchange().returnResult(String.class).getResponseBody().subscribe();
    }

    @Test
    void fullQueue_is429WithRetryAfter() throws InterruptedException {
        awaitEngineIdle();
        Disposable running = start();
        awaitStats(1, 0);
        Disposable waiting = start();
        awaitStats(1, 1);
        try {
            web.post().uri("/v1/completions").contentType(MediaType.APPLICATION_JSON)
                    .bodyValue("{\"model\":\"tiny\",\"prompt\":\"one more\",\"max_tokens\":2}")
                    .exchange()
                    .expectStatus().isEqualTo(429)
                    .expectHeader().valueEquals("Retry-After", "3")
                    .expectBody().jsonPath("$.error.type").isEqualTo("rate_limit_exceeded");
            assertThat(host.stats().orElseThrow().numWaiting()).isEqualTo(1);
        } finally {
            running.dispose();
            waiting.dispose();
        }
        awaitEngineIdle();
    }

    private void awaitStats(int numRunning, int numWaiting) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            var stats = host.stats().orElseThrow();
            if (stats.numRunning() == numRunning && stats.numWaiting() == numWaiting) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("expected " + numRunning + " running, " + numWaiting + " waiting: " + host.stats());
    }
}
