package io.kvserve.scheduler.service;

import io.kvserve.common.openai.OpenAiJson;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * kvshare's hit query over HTTP: the prompt's token ids go in (kvshare hashes them with the tenant's
 * salt and any published prefix), every instance's cached prefix comes back. Anything but a timely
 * {@code "status": "ok"} is "unknown" and the policy places by load.
 */
public final class KvshareClient {

    /** kvshare's answer for one prompt. */
    public record Hits(Map<String, Integer> cachedTokensByInstance, int numPublishedBlocks) {
    }

    private final WebClient web;
    private final Duration timeout;
    private final boolean configured;

    public KvshareClient(WebClient.Builder builder, String baseUrl, Duration timeout) {
        this.configured = !baseUrl.isBlank();
        this.web = builder.baseUrl(configured ? baseUrl : "http://kvshare.invalid").build();
        this.timeout = timeout;
    }

    public boolean configured() {
        return configured;
    }

    public Mono<Optional<Hits>> hits(String model, String tenant, int[] promptIds) {
        if (!configured) {
            return Mono.just(Optional.empty());
        }
        StringBuilder body = new StringBuilder(promptIds.length * 6 + 96);
        body.append("{\"model\":").append(OpenAiJson.MAPPER.writeValueAsString(model))
                .append(",\"tenant\":").append(OpenAiJson.MAPPER.writeValueAsString(tenant))
                .append(",\"queries\":[{\"token_ids\":[");
        for (int i = 0; i < promptIds.length; i++) {
            if (i > 0) {
                body.append(',');
            }
            body.append(promptIds[i]);
        }
        body.append("]}]}");
        return web.post().uri("/v1/hits").contentType(MediaType.APPLICATION_JSON).bodyValue(body.toString())
                .retrieve().bodyToMono(byte[].class)
                .timeout(timeout)
                .map(bytes -> parse(OpenAiJson.MAPPER.readTree(bytes)))
                .onErrorResume(e -> Mono.just(Optional.empty()));
    }

    private static Optional<Hits> parse(JsonNode answer) {
        if (!"ok".equals(answer.path("status").asString(""))) {
            return Optional.empty();
        }
        JsonNode result = answer.path("results").path(0);
        Map<String, Integer> cached = new HashMap<>();
        for (JsonNode instance : result.path("instances")) {
            cached.put(instance.path("instance_id").asString(), instance.path("num_cached_tokens").asInt());
        }
        return Optional.of(new Hits(cached, result.path("num_published_blocks").asInt()));
    }
}
