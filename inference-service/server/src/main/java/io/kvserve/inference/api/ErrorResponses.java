package io.kvserve.inference.api;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.engine.InvalidRequestException;
import io.kvserve.engine.QueueFullException;
import io.kvserve.web.OpenAiResponses;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/** Turns every failure of an API call into an OpenAI error body with the right status. */
final class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

    private ErrorResponses() {
    }

    /** The OpenAI error for {@code error}: ours as they are, the engine's refusals as 400 / 429, the rest 500. */
    static OpenAiException toOpenAi(Throwable error, Duration retryAfter) {
        return switch (error) {
            case OpenAiException e -> e;
            case InvalidRequestException e -> OpenAiException.invalidRequest(e.param(), e.getMessage());
            case QueueFullException e -> OpenAiException.rateLimited(e.getMessage(), retryAfter);
            default -> {
                LOG.error("request failed", error);
                yield OpenAiException.internal("internal error: " + error.getClass().getSimpleName());
            }
        };
    }

    static Mono<ServerResponse> response(Throwable error, Duration retryAfter) {
        return OpenAiResponses.error(toOpenAi(error, retryAfter));
    }
}
