package io.kvserve.inference;

import io.kvserve.inference.model.ModelHost;
import io.kvserve.inference.model.ModelState;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.junit.jupiter.api.BeforeEach;

/**
 * One running instance on the tiny generated model, shared by the API tests (one Spring context):
 * a real Netty server on a random port, the real engine, no Redis.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class ServerTestBase {

    @LocalServerPort
    protected int port;

    @Autowired
    protected ModelHost host;

    protected WebTestClient web;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("kvserve.engine.model", () -> TestModels.tinyGguf().toString());
        registry.add("kvserve.engine.threads", () -> "1");
        registry.add("kvserve.engine.kv-cache.num-blocks", () -> "512");
        registry.add("kvserve.engine.max-model-len", () -> "512");
        registry.add("kvserve.api.max-request-size", () -> "64KB");
    }

    @BeforeEach
    void awaitModel() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (host.state() != ModelState.READY && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        web = WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(60))
                .build();
    }

    /** Waits until the engine has nothing running or waiting (the previous test's streams are gone). */
    protected void awaitEngineIdle() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            var stats = host.stats().orElseThrow();
            if (stats.numRunning() == 0 && stats.numWaiting() == 0) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("engine still busy: " + host.stats());
    }
}
