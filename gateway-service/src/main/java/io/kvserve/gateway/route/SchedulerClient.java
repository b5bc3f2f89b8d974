package io.kvserve.gateway.route;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.ModelList;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.PlacementAnswer;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The gateway's calls to the scheduler: {@code POST /v1/place} (where to run a request, with its
 * token ids and the tenant's salt), {@code GET /v1/models} and {@code POST /v1/outcomes} (the hit
 * the instance delivered, against the one predicted). The scheduler is never on the token path.
 */
public final class SchedulerClient {

    private static final Logger LOG = LoggerFactory.getLogger(SchedulerClient.class);
    private static final Duration RETRY_AFTER_UNREACHABLE = Duration.ofSeconds(2);

    static final int MAX_QUEUED_OUTCOMES = 100_000;

    private final WebClient webClient;
    private final RoutingProperties routing;
    // built once: a String URI is parsed as a template on every call
    private final URI placeUri;
    private final URI modelsUri;
    private final URI outcomesUri;
    private final Queue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private final AtomicInteger numQueuedOutcomes = new AtomicInteger();

    public SchedulerClient(WebClient webClient, RoutingProperties routing) {
        this.webClient = webClient;
        this.routing = routing;
        String url = routing.schedulerUrl().toString();
        String baseUrl = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.placeUri = URI.create(baseUrl + "/v1/place");
        this.modelsUri = URI.create(baseUrl + "/v1/models");
        this.outcomesUri = URI.create(baseUrl + "/v1/outcomes");
    }

    /**
     * A placement for the tenant's request, sent as the client wrote it (the scheduler renders and
     * tokenizes it). Its refusals (400, 404, 429 queue full, 503 no live instance) come back as the
     * {@link OpenAiException} to answer; an unreachable scheduler is 503.
     */
    public Mono<PlacementAnswer> place(Api api, String tenantId, int tenantWeight, byte[] requestBody,
                                       String requestId) {
        return webClient.post().uri(placeUri)
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
        return webClient.get().uri(modelsUri)
                .exchangeToMono(response -> response.statusCode().is2xxSuccessful()
                        ? response.bodyToMono(byte[].class).map(b -> OpenAiJson.MAPPER.readValue(b, ModelList.class))
                        : refusal(response))
                .timeout(routing.connectTimeout().plusSeconds(3));
    }

    /**
     * What the instance really hit, for the scheduler's predicted-vs-delivered metric. Queued and sent
     * in one batch a second ({@link #flushOutcomes}): one more HTTP call per request was the largest
     * single cost in the gateway's profile. Past {@value #MAX_QUEUED_OUTCOMES} waiting, reports are dropped.
     */
    public void reportOutcome(String tenantId, int predictedHitTokens, int deliveredHitTokens) {
        if (numQueuedOutcomes.incrementAndGet() > MAX_QUEUED_OUTCOMES) {
            numQueuedOutcomes.decrementAndGet();
            return;
        }
        outcomes.add(new Outcome(tenantId, predictedHitTokens, deliveredHitTokens));
    }

    /** The outcome reporter, sending what has queued every {@code period}; dispose it to stop. */
    public Disposable startReportingOutcomes(Duration period) {
        return Flux.interval(period, period).onBackpressureDrop()
                .concatMap(tick -> flushOutcomes().onErrorResume(e -> {
                    LOG.debug("outcome report failed: {}", e.toString());
                    return Mono.empty();
                }))
                .subscribe();
    }

    /** Sends the queued outcomes as one {@code {"outcomes": [...]}}; nothing when none are queued. */
    Mono<Void> flushOutcomes() {
        List<Outcome> batch = new ArrayList<>();
        for (Outcome o; (o = outcomes.poll()) != null; ) {
            batch.add(o);
        }
        numQueuedOutcomes.addAndGet(-batch.size());
        if (batch.isEmpty()) {
            return Mono.empty();
        }
        byte[] body = OpenAiJson.MAPPER.writeValueAsBytes(Map.of("outcomes", batch));
        return webClient.post().uri(outcomesUri).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .retrieve().toBodilessEntity()
                .timeout(Duration.ofSeconds(5))
                .then();
    }

    /** One delivered-hit report, as the scheduler's {@code POST /v1/outcomes} takes it. */
    record Outcome(String tenantId, int predictedHitTokens, int deliveredHitTokens) {
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
                new UpstreamStatusException("scheduler", status, bytes, UpstreamStatusException.retryAfter(retryAfter))
                        .error()));
    }

}
