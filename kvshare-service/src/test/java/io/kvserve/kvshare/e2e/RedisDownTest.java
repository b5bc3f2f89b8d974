package io.kvserve.kvshare.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.InstanceStatus;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.kvshare.KvshareApplication;
import io.kvserve.testsupport.redis.RedisServerProcess;
import io.lettuce.core.RedisClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * kvshare with its Redis gone: hit queries answer at once with "unknown" (the scheduler then places by
 * load), health says DOWN, nothing crashes. Runs on a
 * redis-server of its own, which it kills.
 */
class RedisDownTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void redisGone_queriesAnswerUnknownFast_healthDown() throws Exception {
        Path executable = RedisServerProcess.findExecutable().orElse(null);
        assumeTrue(executable != null, "needs redis-server on PATH");
        RedisServerProcess redis = RedisServerProcess.start(executable);
        String url = redis.endpoint().uri();
        register(url);
        ConfigurableApplicationContext kvshare = KvshareApplication.create().run("--server.port=0",
                "--kvshare.redis-url=" + url, "--kvshare.registry-refresh=100ms", "--spring.application.name=down-test");
        String base = "http://localhost:" + kvshare.getEnvironment().getProperty("local.server.port");
        try {
            awaitStatus(base, "ok");

            redis.close(); // the process is killed
            long start = System.nanoTime();
            JsonNode answer = awaitStatus(base, "unknown");
            assertThat(answer.get("results").size()).isZero();
            assertThat(answer.get("reason").asString()).isNotBlank();
            // once the outage is noticed, an answer takes no Redis round trip at all
            long t0 = System.nanoTime();
            assertThat(query(base).get("status").asString()).isEqualTo("unknown");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
            assertThat(get(base + "/actuator/health")).contains("\"redis\":{").contains("DOWN");
        } finally {
            kvshare.close();
            redis.close();
        }
    }

    private static void register(String url) {
        try (RedisClient client = RedisClient.create(url); var connection = client.connect()) {
            long now = System.currentTimeMillis();
            InstanceRegistration registration = new InstanceRegistration("i1", "http://localhost:1", "m", "llama", 16,
                    64, 512, 1024, "e1", now, now, 0, 0, 0, 0, InstanceStatus.READY);
            connection.sync().hset(RedisKeys.instance("i1"), registration.toHash());
            connection.sync().zadd(RedisKeys.INSTANCES, now, "i1");
        }
    }

    private JsonNode awaitStatus(String base, String status) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode answer = null;
        while (System.nanoTime() < deadline) {
            answer = query(base);
            if (answer.has("status") && answer.get("status").asString().equals(status)) {
                return answer;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + status + "' answer: " + answer);
    }

    private JsonNode query(String base) {
        return OpenAiJson.MAPPER.readTree(send(HttpRequest.newBuilder(URI.create(base + "/v1/hits"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"m\",\"tenant\":\"t\",\"queries\":[{\"token_ids\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}]}"))
                .build()));
    }

    private String get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET().build());
    }

    private String send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
