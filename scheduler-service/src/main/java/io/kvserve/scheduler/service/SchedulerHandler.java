package io.kvserve.scheduler.service;

import io.kvserve.common.openai.ModelList;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.web.RequestBodies;
import io.kvserve.web.OpenAiResponses;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * The scheduler's API: {@code POST /v1/place} (the gateway's call), {@code POST /v1/outcomes} and
 * {@code GET /v1/models} (the models it can place, so the gateway can refuse unknown ones itself).
 */
public final class SchedulerHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SchedulerHandler.class);
    /** One line per placement under the gateway's request id; off with the level of io.kvserve.requests. */
    private static final Logger REQUEST_LOG = LoggerFactory.getLogger("io.kvserve.requests");
    private static final java.util.regex.Pattern REQUEST_ID = java.util.regex.Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final int MAX_BODY_BYTES = 8 << 20;

    private final Placer placer;
    private final ModelCatalog catalog;
    private final long startedAtEpochSeconds = System.currentTimeMillis() / 1000;

    public SchedulerHandler(Placer placer, ModelCatalog catalog) {
        this.placer = placer;
        this.catalog = catalog;
    }

    public RouterFunction<ServerResponse> routes() {
        return RouterFunctions.route()
                .POST("/v1/place", this::place)
                .POST("/v1/outcomes", this::outcome)
                .GET("/v1/models", this::models)
                .build();
    }

    Mono<ServerResponse> models(ServerRequest request) {
        List<ModelList.Model> models = catalog.names().stream().sorted()
                .map(name -> new ModelList.Model(name, startedAtEpochSeconds, "kvserve",
                        catalog.model(name).orElseThrow().contextLength()))
                .toList();
        return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(new ModelList(models)));
    }

    Mono<ServerResponse> place(ServerRequest request) {
        String requestId = requestId(request);
        return body(request).flatMap(placer::place)
                .doOnNext(answer -> REQUEST_LOG.info("request {} placed model={} instance={} "
                                + "predicted_hit_tokens={} policy={} reason={} kvshare={}", requestId, answer.model(),
                        answer.instance().id(), answer.predictedHitTokens(), answer.policy(), answer.reason(),
                        answer.kvshare()))
                .flatMap(answer -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(answer)))
                .onErrorResume(e -> {
                    REQUEST_LOG.info("request {} not placed: {}", requestId, e.getMessage());
                    return error(e);
                });
    }

    /** The gateway's {@code x-request-id} when it is a sane token, for the log line; else "-". */
    private static String requestId(ServerRequest request) {
        String id = request.headers().firstHeader("x-request-id");
        return id != null && REQUEST_ID.matcher(id).matches() ? id : "-";
    }

    /**
     * What instances really hit: one {@code {"tenant_id", "predicted_hit_tokens", "delivered_hit_tokens"}},
     * or a batch {@code {"outcomes": [ ...those... ]}} (the gateway sends one batch a second).
     */
    Mono<ServerResponse> outcome(ServerRequest request) {
        return body(request).map(bytes -> {
            JsonNode node = OpenAiJson.MAPPER.readTree(bytes);
            JsonNode outcomes = node.path("outcomes");
            if (outcomes.isArray()) {
                for (int i = 0; i < outcomes.size(); i++) {
                    record(outcomes.get(i), "outcomes[" + i + "]");
                }
            } else {
                record(node, null);
            }
            return bytes;
        }).flatMap(x -> ServerResponse.noContent().build()).onErrorResume(SchedulerHandler::error);
    }

    private void record(JsonNode outcome, String param) {
        String tenant = outcome.path("tenant_id").asString("");
        if (tenant.isBlank() || !outcome.path("predicted_hit_tokens").canConvertToInt()
                || !outcome.path("delivered_hit_tokens").canConvertToInt()) {
            throw OpenAiException.invalidRequest(param, "an outcome must be {\"tenant_id\": string, "
                    + "\"predicted_hit_tokens\": int, \"delivered_hit_tokens\": int}; a batch is {\"outcomes\": [...]}");
        }
        placer.recordDelivered(tenant, outcome.path("predicted_hit_tokens").asInt(),
                outcome.path("delivered_hit_tokens").asInt());
    }

    private static Mono<byte[]> body(ServerRequest request) {
        return RequestBodies.bytes(request, MAX_BODY_BYTES);
    }

    private static Mono<ServerResponse> error(Throwable e) {
        OpenAiException error = switch (e) {
            case OpenAiException o -> o;
            case IllegalArgumentException iae -> OpenAiException.invalidRequest(null, iae.getMessage());
            default -> {
                LOG.error("placement failed", e);
                yield OpenAiException.internal("placement failed: " + e.getClass().getSimpleName());
            }
        };
        return OpenAiResponses.error(error);
    }

}
