package io.kvserve.gateway.route;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.ModelList;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.PlacementAnswer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Mono;

/**
 * The gateway's calls to the scheduler: {@code POST /v1/place} (where to run a request, with its
 * token ids and the tenant's salt), {@code GET /v1/models} and {@code POST /v1/outcomes} (the hit
 * the instance delivered, against the one predicted). The scheduler is never on the token path.
 */
public final class SchedulerClient {

    private static final Logger LOG = LoggerFactory.getLogger(SchedulerClient.class);
    private static final Duration RETRY_AFTER_UNREACHABLE = Duration.ofSeconds(2);

    private final WebClient webClient;
    private final RoutingProperties routing;
    private final String baseUrl;

    public SchedulerClient(WebClient webClient, RoutingProperties routing) {
        this.webClient = webClient;
        this.routing = routing;
        String url = routing.schedulerUrl().toString();
        this.baseUrl = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /**
     * A placement for the tenant's request, sent as the client wrote it (the scheduler renders and
     * tokenizes it). Its refusals (400, 404, 429 queue full, 503 no live instance) come back as the
     * {@link OpenAiException} to answer; an unreachable scheduler is 503.
     */
    public Mono<PlacementAnswer> place(Api api, String tenantId, int tenantWeight, byte[] requestBody,
                                       String requestId) {
        return webClient.post().uri(baseUrl + "/v1/place")
                .contentType(MediaType.APPLICATION_JSON)
                .header("x-request-id", requestId)
                .bodyValue(placeBody(api, tenantId, tenantWeight, requestBody))
                .exchangeToMono(response -> response.statusCode().is2xxSuccessful()
                        ? response.bodyToMono(byte[].class).map(b -> OpenAiJson.MAPPER.readValue(b, PlacementAnswer.class))
                        : refusal(response))
                .timeout(routing.placementTimeout())
                .onErrorMap(TimeoutException.class, e -> OpenAiException.unavailable(
                        "no placement within " + routing.placementTimeout().toSeconds()
                                + "s: the platform is saturated", RETRY_AFTER_UNREACHABLE))
                .onErrorMap(WebClientRequestException.class, e -> OpenAiException.unavailable(
                        "the scheduler is unreachable (" + e.getMostSpecificCause().getClass().getSimpleName() + ")",
                        RETRY_AFTER_UNREACHABLE));
    }

    /** The models the scheduler can place. */
    public Mono<ModelList> models() {
        return webClient.get().uri(baseUrl + "/v1/models")
                .exchangeToMono(response -> response.statusCode().is2xxSuccessful()
                        ? response.bodyToMono(byte[].class).map(b -> OpenAiJson.MAPPER.readValue(b, ModelList.class))
                        : refusal(response))
                .timeout(routing.connectTimeout().plusSeconds(3));
    }

    /** What the instance really hit, for the scheduler's predicted-vs-delivered metric; fire and forget. */
    public void reportOutcome(String tenantId, int predictedHitTokens, int deliveredHitTokens) {
        byte[] body = OpenAiJson.MAPPER.writeValueAsBytes(Map.of("tenant_id", tenantId,
                "predicted_hit_tokens", predictedHitTokens, "delivered_hit_tokens", deliveredHitTokens));
        webClient.post().uri(baseUrl + "/v1/outcomes").contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .retrieve().toBodilessEntity()
                .timeout(Duration.ofSeconds(5))
                .subscribe(ok -> { }, e -> LOG.debug("outcome report failed: {}", e.toString()));
    }

    /** {@code {"api": ..., "tenant_id": ..., "tenant_weight": ..., "request": <the client's body as it came>}}. */
    static byte[] placeBody(Api api, String tenantId, int tenantWeight, byte[] requestBody) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(requestBody.length + 96);
        out.writeBytes(("{\"api\":\"" + (api == Api.CHAT ? "chat.completions" : "completions") + "\",\"tenant_id\":")
                .getBytes(StandardCharsets.UTF_8));
        out.writeBytes(OpenAiJson.MAPPER.writeValueAsBytes(tenantId));
        int weight = Math.clamp(tenantWeight, 1, io.kvserve.common.openai.OpenAiRequests.MAX_TENANT_WEIGHT);
        out.writeBytes((",\"tenant_weight\":" + weight + ",\"request\":").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(requestBody);
        out.write('}');
        return out.toByteArray();
    }

    private static <T> Mono<T> refusal(ClientResponse response) {
        int status = response.statusCode().value();
        String retryAfter = response.headers().asHttpHeaders().getFirst(HttpHeaders.RETRY_AFTER);
        return response.bodyToMono(byte[].class).defaultIfEmpty(new byte[0]).flatMap(bytes -> Mono.error(
                new UpstreamStatusException("scheduler", status, bytes, retryAfter == null ? null
                        : Duration.ofSeconds(parseSeconds(retryAfter))).error()));
    }

    private static long parseSeconds(String value) {
        try {
            return Math.max(1, Long.parseLong(value.trim()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }
}
