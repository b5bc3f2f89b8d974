package io.kvserve.inference.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.inference.ServerTestBase;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

/** Actuator health, info and the vLLM-named Prometheus metrics. */
class OperationsTest extends ServerTestBase {

    @Test
    void readinessAndLiveness_areUpWithTheModel() {
        web.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.status").isEqualTo("UP")
                .jsonPath("$.components.model.details.state").isEqualTo("ready");
        web.get().uri("/actuator/health/liveness").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.status").isEqualTo("UP");
    }

    @Test
    void requestId_isEchoedOrGenerated() {
        web.get().uri("/v1/models").header("x-request-id", "gw-123").exchange()
                .expectHeader().valueEquals("x-request-id", "gw-123");
        web.get().uri("/v1/models").header("x-request-id", "bad id with spaces").exchange()
                .expectHeader().value("x-request-id", id -> assertThat(id).matches("[0-9a-f-]{36}"));
    }

    @Test
    void info_describesModelAndKvCapacity() {
        web.get().uri("/actuator/info").exchange().expectStatus().isOk().expectBody()
                .jsonPath("$.model.name").isEqualTo("tiny")
                .jsonPath("$.model.architecture").isEqualTo("llama")
                .jsonPath("$.model.weightType").isEqualTo("F32")
                .jsonPath("$.model.backend").isEqualTo("cpu")
                .jsonPath("$.model.backendDetail").value(detail -> assertThat((String) detail).startsWith("auto: ")
                        .endsWith("cpu: " + Runtime.getRuntime().availableProcessors() + " cores"))
                .jsonPath("$.model.maxModelLen").isEqualTo(512)
                .jsonPath("$.model.numKvBlocks").isEqualTo(512)
                .jsonPath("$.kvCapacityTokens").isEqualTo(512 * 16);
    }

    @Test
    void prometheus_countsARequestUnderVllmNames() {
        String before = scrape();
        double ttftBefore = value(before, "vllm:time_to_first_token_seconds_count{");
        double lengthBefore = value(before, "vllm:request_success_total{", "finished_reason=\"length\"");
        double promptBefore = value(before, "kvserve:tenant_prompt_tokens_total{", "tenant=\"default\"");

        byte[] body = web.post().uri("/v1/completions").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"model\":\"tiny\",\"prompt\":[5,6,7,8,9],\"max_tokens\":4,\"ignore_eos\":true}")
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody();
        JsonNode usage = OpenAiJson.MAPPER.readTree(body).get("usage");

        String after = scrape();
        assertThat(value(after, "vllm:time_to_first_token_seconds_count{")).isEqualTo(ttftBefore + 1);
        assertThat(value(after, "vllm:request_success_total{", "finished_reason=\"length\"")).isEqualTo(lengthBefore + 1);
        assertThat(value(after, "kvserve:tenant_prompt_tokens_total{", "tenant=\"default\""))
                .isEqualTo(promptBefore + usage.get("prompt_tokens").asInt());
        assertThat(after).contains("vllm:inter_token_latency_seconds_bucket", "vllm:e2e_request_latency_seconds_bucket",
                "vllm:request_prompt_tokens_bucket", "vllm:request_generation_tokens_bucket",
                "vllm:num_requests_running{", "vllm:num_requests_waiting{", "vllm:kv_cache_usage_perc{",
                "vllm:prefix_cache_queries_total{", "vllm:prefix_cache_hits_total{", "vllm:num_preemptions_total{");
    }

    private String scrape() {
        return new String(web.get().uri("/actuator/prometheus").exchange().expectStatus().isOk().expectBody()
                .returnResult().getResponseBody(), StandardCharsets.UTF_8);
    }

    /** The value of the first sample line starting with {@code prefix} and containing every label; 0 if none. */
    private static double value(String scrape, String prefix, String... labels) {
        return scrape.lines().filter(l -> l.startsWith(prefix))
                .filter(l -> java.util.Arrays.stream(labels).allMatch(l::contains))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElse(0);
    }
}
