package io.kvserve.scheduler.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.kvshare.tenant.HashedPrompt;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** kvshare answering too slowly (on purpose): the query gives up in time and placement goes on by load. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KvshareClientTest {

    private DisposableServer slow;

    @BeforeAll
    void start() {
        slow = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post("/v1/hits", (req, res) -> res.header("content-type", "application/json")
                        .sendString(Mono.delay(Duration.ofSeconds(2)).thenReturn("{\"status\":\"ok\",\"results\":[]}"))))
                .bindNow();
    }

    @AfterAll
    void stop() {
        slow.disposeNow();
    }

    @Test
    void slowKvshare_queryEndsAtItsTimeout_withUnknownHits() {
        KvshareClient client = new KvshareClient(WebClient.builder(), "http://127.0.0.1:" + slow.port(),
                Duration.ofMillis(200));
        long started = System.nanoTime();
        Optional<KvshareClient.Hits> hits = client.hits("m", "acme", new int[16],
                new HashedPrompt(List.of(new BlockHash(1, 2)), 0, 16)).block(Duration.ofSeconds(5));
        long elapsedMillis = (System.nanoTime() - started) / 1_000_000;

        assertThat(hits).as("unknown: the placement goes on by load").isEmpty();
        assertThat(elapsedMillis).as("ended by the 200 ms timeout, not by the 2 s answer").isLessThan(1500);
    }
}
