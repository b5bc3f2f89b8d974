package io.kvserve.gateway.api;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
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
        OpenAiException e = toOpenAi(error);
        ServerResponse.BodyBuilder builder = ServerResponse.status(e.status()).contentType(MediaType.APPLICATION_JSON);
        if (headers != null) {
            builder.headers(h -> h.addAll(headers));
        }
        e.retryAfter().ifPresent(d -> builder.header(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1,
                (d.toMillis() + 999) / 1000))));
        return builder.bodyValue(body(e.error()));
    }

    static byte[] body(OpenAiError error) {
        return OpenAiJson.MAPPER.writeValueAsBytes(new OpenAiError.Body(error));
    }
}
