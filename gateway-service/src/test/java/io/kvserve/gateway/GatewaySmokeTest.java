package io.kvserve.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

@RealRedis
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewaySmokeTest {

    private LocalPlatform platform;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start(RedisEndpoint redis, @TempDir Path dir) throws Exception {
        platform = new LocalPlatform(redis.uri(), dir);
        platform.startInstance("a-" + platform.run);
        platform.startInstance("b-" + platform.run);
        platform.startServices();
        platform.awaitInstancesReady();
    }

    @AfterAll
    void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void streamAndComplete() throws Exception {
        LocalPlatform.await(() -> post("{\"model\":\"" + platform.model + "\",\"prompt\":\"hi\",\"max_tokens\":4}")
                .statusCode() == 200, "placeable", Duration.ofSeconds(30));
        HttpResponse<String> r = post("{\"model\":\"" + platform.model + "\",\"prompt\":\"hello there\",\"max_tokens\":8}");
        System.out.println(r.statusCode() + " " + r.headers().map() + " " + r.body());
        HttpResponse<String> s = post("{\"model\":\"" + platform.model + "\",\"prompt\":\"hello there\",\"max_tokens\":8,\"stream\":true}");
        System.out.println(s.statusCode() + " " + s.headers().map() + " " + s.body());
        assertThat(s.body()).endsWith("data: [DONE]\n\n");
    }

    private HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(platform.gatewayUrl + "/v1/completions"))
                .timeout(Duration.ofSeconds(30)).header("authorization", "Bearer sk-test")
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
