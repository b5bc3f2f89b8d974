package io.kvserve.gateway.api;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.GenerationParams;
import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.OpenAiRequests;
import io.kvserve.common.openai.PlacementAnswer;
import io.kvserve.gateway.quota.Admission;
import io.kvserve.gateway.quota.Lease;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.gateway.route.CallAccounting;
import io.kvserve.gateway.route.Frame;
import io.kvserve.gateway.route.ModelDirectory;
import io.kvserve.gateway.route.Relay;
import io.kvserve.gateway.route.RoutedCall;
import io.kvserve.gateway.route.SchedulerClient;
import io.kvserve.gateway.tenant.Caller;
import io.kvserve.gateway.tenant.KeyAuthenticator;
import io.kvserve.gateway.tenant.Scope;
import io.kvserve.web.RequestBodies;
import io.kvserve.web.OpenAiResponses;
import java.util.concurrent.TimeoutException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The tenant-facing OpenAI endpoints.
 *
 * <pre>
 *   API key -&gt; caller (401), scope (403)
 *     -&gt; body, size- and time-limited (413, 408) -&gt; parse + check as the instances do (400)
 *     -&gt; model known? (404, from the scheduler's list, refreshed in the background)
 *     -&gt; quotas: requests, tokens reserved (request bytes / 4 + n * max_tokens), streams, daily budget (429)
 *     -&gt; placement from the scheduler: instance, fallbacks, token ids, salt (its 404 / 429 / 503 pass on)
 *     -&gt; relay from the instance (fallbacks before the first token; error event + [DONE] after)
 *     -&gt; at the end: the token reservation reconciled with the real usage, the delivered hit reported
 * </pre>
 *
 * Nothing here blocks: Redis, the scheduler and the instances are all called without a thread
 * waiting, so an event-loop thread serves every open stream.
 */
public final class GatewayHandler {

    /** Bodies above this are copied off the thread an admission came back on (see {@link #call}). */
    private static final int LARGE_BODY_BYTES = 64 << 10;

    private final KeyAuthenticator authenticator;
    private final QuotaService quotas;
    private final ModelDirectory models;
    private final SchedulerClient scheduler;
    private final Relay relay;
    private final CallAccounting accounting;
    private final ApiProperties api;
    private final OpenAiRequests.Limits limits;

    public GatewayHandler(KeyAuthenticator authenticator, QuotaService quotas, ModelDirectory models,
                          SchedulerClient scheduler, Relay relay, CallAccounting accounting, ApiProperties api) {
        this.authenticator = authenticator;
        this.quotas = quotas;
        this.models = models;
        this.scheduler = scheduler;
        this.relay = relay;
        this.accounting = accounting;
        this.api = api;
        this.limits = new OpenAiRequests.Limits(api.maxN(), OpenAiRequests.Limits.DEFAULT.maxStopStrings(),
                OpenAiRequests.Limits.DEFAULT.maxStopLength(), OpenAiRequests.Limits.DEFAULT.maxPromptTokenIds());
    }

    public RouterFunction<ServerResponse> routes() {
        return RouterFunctions.route()
                .POST("/v1/chat/completions", r -> call(r, Api.CHAT, Scope.CHAT_COMPLETIONS))
                .POST("/v1/completions", r -> call(r, Api.COMPLETIONS, Scope.COMPLETIONS))
                .GET("/v1/models", this::models)
                .route(RequestPredicates.path("/v1/chat/completions").or(RequestPredicates.path("/v1/completions"))
                        .or(RequestPredicates.path("/v1/models")), GatewayHandler::methodNotAllowed)
                .build();
    }

    private static Mono<ServerResponse> methodNotAllowed(ServerRequest request) {
        String allowed = request.path().equals("/v1/models") ? "GET" : "POST";
        return ServerResponse.status(405).header(HttpHeaders.ALLOW, allowed).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(OpenAiResponses.body(new OpenAiError("method " + request.method().name()
                        + " is not allowed on " + request.path() + "; use " + allowed, "invalid_request_error", null,
                        "method_not_allowed")));
    }

    Mono<ServerResponse> models(ServerRequest request) {
        return authorize(request, Scope.MODELS)
                .flatMap(caller -> models.list())
                .flatMap(list -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(list)))
                .onErrorResume(e -> ErrorResponses.response(e, null));
    }

    Mono<ServerResponse> call(ServerRequest request, Api endpoint, Scope scope) {
        String requestId = RequestIdFilter.id(request);
        long arrivedNanos = RequestIdFilter.arrivedNanos(request);
        HttpHeaders rateLimits = new HttpHeaders();
        return authorize(request, scope)
                .flatMap(caller -> body(request).flatMap(bytes -> {
                    Parsed parsed = parse(endpoint, bytes);
                    RoutedCall call = new RoutedCall(requestId, caller.tenantId(), endpoint, parsed.stream(),
                            parsed.includeUsage(), arrivedNanos);
                    return models.require(parsed.model())
                            .then(Mono.defer(() -> quotas.admit(caller, reserveTokens(bytes, parsed.params()))))
                            // an admission from Redis arrives on Lettuce's one I/O thread: a large body is
                            // copied into the placement call off it, so Redis replies never queue behind it
                            .transform(admission -> bytes.length > LARGE_BODY_BYTES
                                    ? admission.publishOn(Schedulers.boundedElastic()) : admission)
                            .flatMap(admission -> switch (admission) {
                                case Admission.Rejected rejected -> {
                                    rejected.headers().applyTo(rateLimits);
                                    yield Mono.error(rejected.error());
                                }
                                case Admission.Admitted admitted -> {
                                    admitted.headers().applyTo(rateLimits);
                                    yield route(call, caller.tenantWeight(), bytes, admitted.lease(), rateLimits);
                                }
                            });
                }))
                .onErrorResume(e -> ErrorResponses.response(e, rateLimits));
    }

    private Mono<ServerResponse> route(RoutedCall call, int tenantWeight, byte[] body, Lease lease,
                                       HttpHeaders rateLimits) {
        return Mono.defer(() -> {
            call.placementSent();
            return scheduler.place(call.api(), call.tenantId(), tenantWeight, body, call.requestId());
        }).flatMap(answer -> {
            call.placed(answer);
            Flux<Frame> frames = relay.frames(call, generateBody(call, body, answer))
                    .doFinally(signal -> accounting.finished(call, lease, signal));
            return call.stream() ? stream(call, frames, rateLimits) : complete(frames, rateLimits);
        }).doOnError(e -> accounting.refused(call, lease, e)).doOnCancel(() -> accounting.finished(call, lease,
                SignalType.CANCEL));
    }

    private Mono<ServerResponse> stream(RoutedCall call, Flux<Frame> frames, HttpHeaders rateLimits) {
        return ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                .headers(h -> h.addAll(rateLimits))
                .header(HttpHeaders.CACHE_CONTROL, "no-cache")
                .header("X-Accel-Buffering", "no")
                .body((message, context) -> message.writeAndFlushWith(frames.map(frame -> {
                    accounting.handed(call, frame);
                    return Mono.just(message.bufferFactory().wrap(frame.bytes()));
                })));
    }

    private Mono<ServerResponse> complete(Flux<Frame> frames, HttpHeaders rateLimits) {
        return frames.singleOrEmpty().flatMap(frame -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                .headers(h -> h.addAll(rateLimits)).bodyValue(frame.bytes()));
    }

    // ---- steps

    private Mono<Caller> authorize(ServerRequest request, Scope scope) {
        return authenticator.authenticate(request.headers().firstHeader(HttpHeaders.AUTHORIZATION))
                .doOnNext(caller -> caller.requireScope(scope));
    }

    private Mono<byte[]> body(ServerRequest request) {
        return RequestBodies.bytes(request, (int) api.maxRequestSize().toBytes())
                .timeout(api.requestReadTimeout())
                .onErrorMap(e -> switch (e) {
                    case OpenAiException o -> o;
                    // ours, or the server's read/request timeout (Netty's ReadTimeoutException and kin)
                    case Exception t when t instanceof TimeoutException
                            || t.getClass().getSimpleName().contains("Timeout") -> new OpenAiException(408,
                            new OpenAiError("the request body did not arrive within "
                                    + api.requestReadTimeout().toSeconds() + "s", "invalid_request_error", null,
                                    "request_timeout"), null);
                    default -> new OpenAiException(400, new OpenAiError("the request body could not be read: "
                            + e.getClass().getSimpleName(), "invalid_request_error", null, null), null);
                });
    }

    /** What the gateway needs of a checked request. */
    private record Parsed(String model, GenerationParams params, boolean stream, boolean includeUsage) {
    }

    private Parsed parse(Api endpoint, byte[] bytes) {
        if (endpoint == Api.CHAT) {
            var chat = OpenAiRequests.parseChat(bytes, limits);
            return new Parsed(chat.model(), chat.params(), chat.stream(), chat.includeUsage());
        }
        var completion = OpenAiRequests.parseCompletion(bytes, limits);
        return new Parsed(completion.model(), completion.params(), completion.stream(), completion.includeUsage());
    }

    /**
     * Tokens held against the token quota until the real usage is known: the prompt estimated as a
     * quarter of the request's bytes (OpenAI also estimates from characters before tokenizing) plus
     * what the completion may use.
     */
    private int reserveTokens(byte[] body, GenerationParams params) {
        long completion = (long) params.n() * (params.maxTokens() != null ? params.maxTokens()
                : api.defaultMaxTokensReserve());
        return (int) Math.min(Integer.MAX_VALUE, (body.length + 3) / 4 + completion);
    }

    /**
     * The instance's internal generate call: the client's request, always streamed with the usage
     * chunk (the gateway enforces time limits on tokens, assembles non-streamed responses and
     * reconciles the token quota with the usage), the scheduler's token ids, the tenant's salt.
     */
    static byte[] generateBody(RoutedCall call, byte[] clientBody, PlacementAnswer answer) {
        ObjectNode request = (ObjectNode) OpenAiJson.MAPPER.readTree(clientBody);
        request.put("stream", true);
        ObjectNode options = request.get("stream_options") instanceof ObjectNode o ? o
                : request.putObject("stream_options");
        options.put("include_usage", true);
        ObjectNode envelope = OpenAiJson.MAPPER.createObjectNode();
        envelope.put("api", call.apiName());
        envelope.set("request", request);
        ArrayNode ids = envelope.putArray("prompt_token_ids");
        for (int id : answer.promptTokenIds()) {
            ids.add(id);
        }
        envelope.put("tenant_id", call.tenantId());
        envelope.put("cache_salt", answer.cacheSalt());
        envelope.put("num_published_blocks", answer.numPublishedBlocks());
        envelope.put("request_id", (call.api() == Api.CHAT ? "chatcmpl-" : "cmpl-") + call.requestId());
        return OpenAiJson.MAPPER.writeValueAsBytes(envelope);
    }
}
