package io.kvserve.scheduler.service;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.kvshare.tenant.HashedPrompt;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * kvshare's hit query over HTTP: the prompt's block-hash chain goes in (hashed here, tenant salt and
 * published prefix included, by the same {@code ChainHasher} kvshare uses), every instance's cached
 * prefix comes back. Anything but a timely {@code "status": "ok"} is "unknown" and the policy places
 * by load.
 *
 * <p>Why hashes and not token ids: a 4k-token prompt is about 20 KB of JSON ids for kvshare to parse
 * and hash, against 256 hashes (about 9 KB) here, where the prompt and the tenant's salt already are.
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

    /**
     * Every instance's cached prefix of {@code prompt} (the chain of {@code promptIds}, hashed for
     * {@code tenant}); its published blocks are counted from {@code prompt}. A prompt shorter than one
     * block has no chain to send, and kvshare gets its few token ids instead (its answer: every
     * instance 0, or unknown when it is away, as for any prompt).
     */
    public Mono<Optional<Hits>> hits(String model, String tenant, int[] promptIds, HashedPrompt prompt) {
        if (!configured) {
            return Mono.just(Optional.empty());
        }
        List<BlockHash> chain = prompt.chain();
        StringBuilder body = new StringBuilder(chain.size() * 35 + promptIds.length * 6 + 96);
        body.append("{\"model\":").append(OpenAiJson.MAPPER.writeValueAsString(model))
                .append(",\"tenant\":").append(OpenAiJson.MAPPER.writeValueAsString(tenant));
        if (chain.isEmpty()) {
            body.append(",\"queries\":[{\"token_ids\":[");
            for (int i = 0; i < promptIds.length; i++) {
                body.append(i > 0 ? "," : "").append(promptIds[i]);
            }
        } else {
            body.append(",\"queries\":[{\"block_hashes\":[");
            for (int i = 0; i < chain.size(); i++) {
                body.append(i > 0 ? ",\"" : "\"").append(chain.get(i).toHex()).append('"');
            }
        }
        body.append("]}]}");
        int numPublishedBlocks = prompt.numPublishedBlocks();
        return web.post().uri("/v1/hits").contentType(MediaType.APPLICATION_JSON).bodyValue(body.toString())
                .retrieve().bodyToMono(byte[].class)
                .timeout(timeout)
                .map(bytes -> parse(OpenAiJson.MAPPER.readTree(bytes), numPublishedBlocks))
                .onErrorResume(e -> Mono.just(Optional.empty()));
    }

    private static Optional<Hits> parse(JsonNode answer, int numPublishedBlocks) {
        if (!"ok".equals(answer.path("status").asString(""))) {
            return Optional.empty();
        }
        JsonNode result = answer.path("results").path(0);
        Map<String, Integer> cached = new HashMap<>();
        for (JsonNode instance : result.path("instances")) {
            cached.put(instance.path("instance_id").asString(), instance.path("num_cached_tokens").asInt());
        }
        return Optional.of(new Hits(cached, numPublishedBlocks));
    }
}
