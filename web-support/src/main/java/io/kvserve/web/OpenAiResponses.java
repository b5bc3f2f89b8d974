package io.kvserve.web;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import java.time.Duration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * An {@link OpenAiException} as every service answers it: its status, an OpenAI error body
 * {@code {"error": {"message", "type", "param", "code"}}} and, for 429 and 503, {@code Retry-After}.
 */
public final class OpenAiResponses {

    private OpenAiResponses() {
    }

    /** The response for {@code error}. */
    public static Mono<ServerResponse> error(OpenAiException error) {
        return error(error, null);
    }

    /** The response for {@code error}, with {@code headers} (e.g. rate-limit state) when not null. */
    public static Mono<ServerResponse> error(OpenAiException error, HttpHeaders headers) {
        ServerResponse.BodyBuilder builder = ServerResponse.status(error.status()).contentType(MediaType.APPLICATION_JSON);
        if (headers != null) {
            builder.headers(h -> h.addAll(headers));
        }
        error.retryAfter().ifPresent(d -> builder.header(HttpHeaders.RETRY_AFTER, retryAfterSeconds(d)));
        return builder.bodyValue(body(error.error()));
    }

    /** The error body's bytes. */
    public static byte[] body(OpenAiError error) {
        return OpenAiJson.MAPPER.writeValueAsBytes(new OpenAiError.Body(error));
    }

    /** {@code Retry-After} in whole seconds, rounded up, at least 1. */
    public static String retryAfterSeconds(Duration retryAfter) {
        return Long.toString(Math.max(1, (retryAfter.toMillis() + 999) / 1000));
    }
}
