package io.kvserve.gateway.route;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.reactor.bulkhead.operator.BulkheadOperator;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import io.kvserve.common.openai.PlacementAnswer.Target;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One call to one inference instance's {@code POST /internal/v1/generate}, guarded per instance:
 *
 * <pre>
 *   circuit breaker (instance id)   open after repeated failures: calls fail at once, the next
 *                                   fallback takes them, half-open probes later
 *     bulkhead (instance id)        at most N calls in flight to one instance, none waiting
 *       time limits                 first event within first-token-timeout, then a gap of at most
 *                                   inter-token-timeout between events
 *         HTTP                      the events as they arrive, cut into whole SSE frames
 * </pre>
 *
 * Both guards come from Resilience4j's registries, configured under {@code resilience4j.*} (the
 * gateway's defaults are in kvserve-gateway.properties). An instance's 4xx other than 429 is the
 * request's fault: it comes back as the {@link io.kvserve.common.openai.OpenAiException} the breaker
 * ignores; 429, 5xx, refused connections and timeouts count against the instance.
 */
public final class InstanceClient {

    static final String GENERATE_PATH = "/internal/v1/generate";

    private final WebClient webClient;
    private final RoutingProperties routing;
    private final CircuitBreakerRegistry breakers;
    private final BulkheadRegistry bulkheads;

    public InstanceClient(WebClient webClient, RoutingProperties routing, CircuitBreakerRegistry breakers,
                          BulkheadRegistry bulkheads) {
        this.webClient = webClient;
        this.routing = routing;
        this.breakers = breakers;
        this.bulkheads = bulkheads;
    }

    /**
     * The instance's events as they arrive. The gateway asks for a stream whatever the client asked
     * ({@code body} says {@code "stream": true}): the time limits need tokens to watch.
     */
    public Flux<Frame> generate(Target target, byte[] body, String requestId) {
        CircuitBreaker breaker = breakers.circuitBreaker(target.id());
        Bulkhead bulkhead = bulkheads.bulkhead(target.id());
        return Flux.defer(() -> {
            AtomicBoolean begun = new AtomicBoolean();
            Flux<Frame> frames = webClient.post().uri(URI.create(target.url() + GENERATE_PATH))
                    .contentType(MediaType.APPLICATION_JSON)
                    .headers(h -> headers(h, requestId))
                    .bodyValue(body)
                    .exchangeToFlux(response -> frames(target, response));
            return frames.timeout(Mono.delay(routing.firstTokenTimeout()), f -> Mono.delay(routing.interTokenTimeout()))
                    .doOnNext(f -> begun.set(true))
                    .onErrorMap(TimeoutException.class, e -> new UpstreamTimeoutException(target.id(), begun.get()
                            ? "instance " + target.id() + " sent nothing for " + seconds(routing.interTokenTimeout())
                            : "instance " + target.id() + " gave no first token within "
                                    + seconds(routing.firstTokenTimeout())));
        }).transformDeferred(BulkheadOperator.of(bulkhead)).transformDeferred(CircuitBreakerOperator.of(breaker));
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
        headers.setAccept(java.util.List.of(MediaType.TEXT_EVENT_STREAM, MediaType.APPLICATION_JSON));
    }

    private static Flux<Frame> frames(Target target, ClientResponse response) {
        if (response.statusCode().is2xxSuccessful()) {
            return SseFramer.frames(response.bodyToFlux(DataBuffer.class));
        }
        int status = response.statusCode().value();
        Duration retryAfter = retryAfter(response.headers().asHttpHeaders().getFirst(HttpHeaders.RETRY_AFTER));
        return response.bodyToMono(byte[].class).defaultIfEmpty(new byte[0]).flatMapMany(bytes -> {
            UpstreamStatusException error = new UpstreamStatusException(target.id(), status, bytes, retryAfter);
            return Flux.error(error.retryable() ? error : error.error());
        });
    }

    private static Duration retryAfter(String header) {
        if (header == null) {
            return null;
        }
        try {
            return Duration.ofSeconds(Long.parseLong(header.trim()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
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
