package io.kvserve.common.openai;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * An error to answer with an HTTP status and an {@link OpenAiError} body. The factories give the
 * statuses the platform uses: 400 invalid request, 404 unknown model or route, 413 body too large,
 * 429 queue full or over quota (with {@code Retry-After}), 503 loading or draining.
 */
public final class OpenAiException extends RuntimeException {

    private final int status;
    private final OpenAiError error;
    private final Duration retryAfter;

    public OpenAiException(int status, OpenAiError error, Duration retryAfter) {
        super(Objects.requireNonNull(error, "error").message());
        this.status = status;
        this.error = error;
        this.retryAfter = retryAfter;
    }

    /** 400: a parameter has a wrong type or value; {@code param} names it (null for the body as a whole). */
    public static OpenAiException invalidRequest(String param, String message) {
        return new OpenAiException(400, new OpenAiError(message, "invalid_request_error", param, null), null);
    }

    /** 400 with a code, e.g. {@code context_length_exceeded}. */
    public static OpenAiException invalidRequest(String param, String message, String code) {
        return new OpenAiException(400, new OpenAiError(message, "invalid_request_error", param, code), null);
    }

    /** 404: the model the request names is not served here. */
    public static OpenAiException modelNotFound(String model, String served) {
        return new OpenAiException(404, new OpenAiError("The model '" + model + "' does not exist; this server serves '"
                + served + "' (GET /v1/models lists it)", "invalid_request_error", "model", "model_not_found"), null);
    }

    /** 413: the body is larger than the server takes. */
    public static OpenAiException tooLarge(long maxBytes) {
        return new OpenAiException(413, new OpenAiError("the request body is larger than " + maxBytes
                + " bytes", "invalid_request_error", null, "request_too_large"), null);
    }

    /** 429 with {@code Retry-After}. */
    public static OpenAiException rateLimited(String message, Duration retryAfter) {
        return new OpenAiException(429, new OpenAiError(message, "rate_limit_exceeded", null, "rate_limit_exceeded"),
                retryAfter);
    }

    /** 503 with {@code Retry-After}: loading, draining or otherwise not serving now. */
    public static OpenAiException unavailable(String message, Duration retryAfter) {
        return new OpenAiException(503, new OpenAiError(message, "service_unavailable", null, "service_unavailable"),
                retryAfter);
    }

    /** 500: a bug or a failure of ours, not of the request. */
    public static OpenAiException internal(String message) {
        return new OpenAiException(500, new OpenAiError(message, "server_error", null, null), null);
    }

    public int status() {
        return status;
    }

    public OpenAiError error() {
        return error;
    }

    /** How long the client should wait before retrying, for 429 and 503. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
