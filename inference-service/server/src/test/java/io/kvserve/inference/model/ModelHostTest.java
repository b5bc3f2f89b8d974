package io.kvserve.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.engine.kv.KvEventListener;
import io.kvserve.inference.TestModels;
import io.kvserve.inference.config.ApiProperties;
import io.kvserve.inference.config.EngineProperties;
import io.kvserve.inference.config.InstanceProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.health.contributor.Status;
import org.springframework.util.unit.DataSize;

/** The model's life: loading, ready, failed, drained; what the API and readiness say in each. */
class ModelHostTest {

    private final List<Object> events = new ArrayList<>();

    private ModelHost host(Path model) {
        EngineProperties engine = new EngineProperties(model, "", "auto", 1, 64, 4, 8, 256, true, 10,
                new EngineProperties.KvCache(16, 64, DataSize.ofMegabytes(1), "f32"));
        InstanceProperties instance = new InstanceProperties("", "", Duration.ofSeconds(1), Duration.ofSeconds(3),
                Duration.ofSeconds(5), "");
        return new ModelHost(engine, instance, new ApiProperties(DataSize.ofMegabytes(1), 4, 2),
                new StaticListableBeanFactory().getBeanProvider(KvEventListener.class), events::add);
    }

    private static void awaitState(ModelHost host, ModelState state) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (host.state() != state && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(host.state()).isEqualTo(state);
    }

    @Test
    void missingModelFile_failsWith503AndReadinessDown() throws InterruptedException {
        ModelHost host = host(Path.of("/nonexistent/model.gguf"));
        host.start();
        awaitState(host, ModelState.FAILED);

        assertThatThrownBy(host::require).isInstanceOfSatisfying(OpenAiException.class,
                e -> assertThat(e.status()).isEqualTo(503));
        assertThat(new ModelHealthIndicator(host).health().getStatus()).isEqualTo(Status.DOWN);
        host.stop();
    }

    @Test
    void readyThenStopped_servesThenRefusesWith503() throws InterruptedException {
        ModelHost host = host(TestModels.tinyGguf());
        assertThat(new ModelHealthIndicator(host).health().getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
        host.start();
        awaitState(host, ModelState.READY);

        assertThat(host.require().info().name()).isEqualTo("tiny");
        assertThat(host.require().info().numKvBlocks()).isEqualTo(64);
        assertThat(new ModelHealthIndicator(host).health().getStatus()).isEqualTo(Status.UP);
        assertThat(events).anyMatch(e -> e instanceof ModelHost.ModelReadyEvent);

        host.stop();
        assertThat(host.state()).isEqualTo(ModelState.STOPPED);
        assertThatThrownBy(host::require).isInstanceOfSatisfying(OpenAiException.class, e -> {
            assertThat(e.status()).isEqualTo(503);
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(2));
        });
        assertThat(new ModelHealthIndicator(host).health().getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
    }
}
