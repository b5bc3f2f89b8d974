package io.kvserve.gateway.route;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.reactor.bulkhead.operator.BulkheadOperator;
import io.kvserve.common.openai.PlacementAnswer.Target;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.Exceptions;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One call to one inference instance's {@code POST /internal/v1/generate}, guarded per instance:
 *
 * <pre>
 *   bulkhead (instance id)          at most N calls in flight to one instance, none waiting; a full
 *                                   bulkhead is load, not failure: the breaker never hears of it
 *     circuit breaker (instance id) open after repeated failures: calls fail at once, the next
 *                                   fallback takes them, half-open probes later; judged on whether
 *                                   the instance begins (its first event), see BreakerCall
 *       buffer (4096 events)        a client reading slower than the instance writes
 *         time limits               first event within first-token-timeout, then a gap of at most
 *                                   inter-token-timeout between events
 *           HTTP                    the events as they arrive, cut into whole SSE frames; an empty
 *                                   stream or one without [DONE] is a 502
 * </pre>
 *
 * Both guards come from Resilience4j's registries, configured under {@code resilience4j.*} (the
 * gateway's defaults are in kvserve-gateway.properties). An instance's 4xx other than 429 is the
 * request's fault: it comes back as the {@link io.kvserve.common.openai.OpenAiException} the breaker
 * ignores; 429, 5xx, refused connections and timeouts count against the instance.
 */
public final class InstanceClient {

    static final String GENERATE_PATH = "/internal/v1/generate";
    /** Events held for a client that reads slower than the instance writes; past it the stream ends. */
    static final int MAX_BUFFERED_FRAMES = 4096;
    private static final byte[] EMPTY = error("the inference instance answered 200 with no events");
    private static final byte[] INCOMPLETE = error("the inference instance closed the stream before [DONE]");

    private final WebClient webClient;
    private final RoutingProperties routing;
    private final CircuitBreakerRegistry breakers;
    private final BulkheadRegistry bulkheads;
    /** Each instance's generate URI, parsed once. */
    private final java.util.Map<String, URI> generateUris = new java.util.concurrent.ConcurrentHashMap<>();

    public InstanceClient(WebClient webClient, RoutingProperties routing, CircuitBreakerRegistry breakers,
                          BulkheadRegistry bulkheads) {
        this.webClient = webClient;
        this.routing = routing;
        this.breakers = breakers;
        this.bulkheads = bulkheads;
    }

    /**
     * The instance's events as they arrive. The gateway asks for a stream whatever the client asked
     * ({@code body} says {@code "stream": true}): the time limits need tokens to watch. Fails with
     * {@link UpstreamStatusException} (502) when the stream ends empty or without {@code [DONE]}.
     */
    public Flux<Frame> generate(Target target, byte[] body, String requestId) {
        CircuitBreaker breaker = breakers.circuitBreaker(target.id());
        Bulkhead bulkhead = bulkheads.bulkhead(target.id());
        return Flux.defer(() -> {
            if (!breaker.tryAcquirePermission()) {
                return Flux.<Frame>error(CallNotPermittedException.createCallNotPermittedException(breaker));
            }
            BreakerCall call = new BreakerCall(breaker);
            Flux<Frame> frames = webClient.post().uri(generateUris.computeIfAbsent(target.url(),
                            url -> URI.create(url + GENERATE_PATH)))
                    .contentType(MediaType.APPLICATION_JSON)
                    .headers(h -> headers(h, requestId))
                    .bodyValue(body)
                    .exchangeToFlux(response -> frames(target, response));
            return frames
                    // the limits time the instance, so they sit before the buffer that absorbs a slow reader
                    .timeout(Mono.delay(routing.firstTokenTimeout()), f -> Mono.never())
                    .transform(f -> GapWatchdog.watch(f, routing.interTokenTimeout()))
                    .onErrorMap(TimeoutException.class, e -> new UpstreamTimeoutException(target.id(), call.begun
                            ? "instance " + target.id() + " sent nothing for " + seconds(routing.interTokenTimeout())
                            : "instance " + target.id() + " gave no first token within "
                                    + seconds(routing.firstTokenTimeout())))
                    .doOnNext(call::frame)
                    .concatWith(Flux.defer(() -> call.sawDone ? Flux.empty() : Flux.error(new UpstreamStatusException(
                            target.id(), 502, call.begun ? INCOMPLETE : EMPTY, null))))
                    .onBackpressureBuffer(MAX_BUFFERED_FRAMES, dropped -> { },
                            BufferOverflowStrategy.ERROR)
                    .onErrorMap(Exceptions::isOverflow, e -> new ClientTooSlowException(
                            "the client read too slowly: " + MAX_BUFFERED_FRAMES + " events were waiting for it"))
                    .doOnError(call::failed)
                    .doOnCancel(call::cancelled);
        }).transformDeferred(BulkheadOperator.of(bulkhead));
    }

    /**
     * What the breaker hears of one call. The instance is judged by whether it begins: its first
     * event is the success (a long stream does not hold the half-open probe for its whole life); a
     * failure before it, an error event from the engine, a stream broken or ended without
     * {@code [DONE]} are failures. The request's own faults (the instance's 4xx) the breaker ignores
     * by configuration; a cancel or a slow client says nothing about the instance.
     */
    private static final class BreakerCall {
        private final CircuitBreaker breaker;
        private final long startNanos = System.nanoTime();
        private final AtomicBoolean judged = new AtomicBoolean();
        private volatile boolean begun;
        private volatile boolean sawDone;

        BreakerCall(CircuitBreaker breaker) {
            this.breaker = breaker;
        }

        void frame(Frame frame) {
            begun = true;
            if (frame.isDone()) {
                sawDone = true;
            } else if (frame.isError()) {
                error(new UpstreamStatusException(breaker.getName(), 500, frame.json().getBytes(StandardCharsets.UTF_8),
                        null));
            } else if (judged.compareAndSet(false, true)) {
                breaker.onSuccess(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
            }
        }

        void failed(Throwable e) {
            if (e instanceof ClientTooSlowException) {
                if (judged.compareAndSet(false, true)) {
                    breaker.releasePermission();
                }
                return;
            }
            error(e);
        }

        private void error(Throwable e) {
            judged.set(true); // a failure after the first event is one more outcome, not the call's first
            breaker.onError(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS, e);
        }

        void cancelled() {
            if (judged.compareAndSet(false, true)) {
                breaker.releasePermission();
            }
        }
    }

    /** The state of the instance's breaker, for health and the status page. */
    public CircuitBreaker.State breakerState(String instanceId) {
        return breakers.circuitBreaker(instanceId).getState();
    }

    private void headers(HttpHeaders headers, String requestId) {
        headers.set("x-request-id", requestId);
        if (!routing.internalToken().isEmpty()) {
            headers.setBearerAuth(routing.internalToken());
        }
        headers.setAccept(List.of(MediaType.TEXT_EVENT_STREAM, MediaType.APPLICATION_JSON));
    }

    private static Flux<Frame> frames(Target target, ClientResponse response) {
        if (response.statusCode().is2xxSuccessful()) {
            return SseFramer.frames(response.bodyToFlux(DataBuffer.class));
        }
        int status = response.statusCode().value();
        Duration retryAfter = UpstreamStatusException.retryAfter(response.headers().asHttpHeaders().getFirst(HttpHeaders.RETRY_AFTER));
        return response.bodyToMono(byte[].class).defaultIfEmpty(new byte[0]).flatMapMany(bytes -> {
            UpstreamStatusException error = new UpstreamStatusException(target.id(), status, bytes, retryAfter);
            return Flux.error(error.retryable() ? error : error.error());
        });
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static byte[] error(String message) {
        return ("{\"error\":{\"message\":\"" + message + "\",\"type\":\"server_error\",\"code\":\"upstream_failed\"}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The client did not keep up with its stream; its fault, not the instance's. */
    public static final class ClientTooSlowException extends RuntimeException {
        ClientTooSlowException(String message) {
            super(message, null, false, false);
        }
    }

    /** An instance was too slow: before its first event (the next fallback is tried) or between events. */
    public static final class UpstreamTimeoutException extends RuntimeException {
        private final String instanceId;

        UpstreamTimeoutException(String instanceId, String message) {
            super(message, null, false, false);
            this.instanceId = instanceId;
        }

        public String instanceId() {
            return instanceId;
        }
    }
}
