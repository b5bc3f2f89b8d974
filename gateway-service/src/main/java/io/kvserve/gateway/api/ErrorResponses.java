package io.kvserve.gateway.api;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.web.OpenAiResponses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/** Every refusal as an OpenAI error body with its status, {@code Retry-After} and rate-limit headers. */
final class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

    private ErrorResponses() {
    }

    static OpenAiException toOpenAi(Throwable error) {
        if (error instanceof OpenAiException e) {
            return e;
        }
        if (error instanceof IllegalArgumentException e) {
            return OpenAiException.invalidRequest(null, e.getMessage());
        }
        LOG.error("request failed", error);
        return OpenAiException.internal("internal error: " + error.getClass().getSimpleName());
    }

    /** The response for {@code error}, with {@code headers} (the rate-limit state) when given. */
    static Mono<ServerResponse> response(Throwable error, HttpHeaders headers) {
        return OpenAiResponses.error(toOpenAi(error), headers);
    }
}
