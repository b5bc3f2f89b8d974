package io.kvserve.kvshare.api;

import io.kvserve.common.openai.OpenAiError;

/**
 * A refused kvshare call: the HTTP status and the platform's error body (the OpenAI error shape, so
 * every kvserve service answers errors alike).
 */
final class ApiError extends RuntimeException {

    private final int status;
    private final OpenAiError error;

    private ApiError(int status, OpenAiError error) {
        super(error.message());
        this.status = status;
        this.error = error;
    }

    static ApiError badRequest(String param, String message) {
        return new ApiError(400, new OpenAiError(message, "invalid_request_error", param, null));
    }

    static ApiError notFound(String param, String message, String code) {
        return new ApiError(404, new OpenAiError(message, "not_found_error", param, code));
    }

    static ApiError tooLarge(String param, String message) {
        return new ApiError(413, new OpenAiError(message, "invalid_request_error", param, "too_large"));
    }

    static ApiError forbidden(String message) {
        return new ApiError(403, new OpenAiError(message, "permission_error", null, "operator_only"));
    }

    int status() {
        return status;
    }

    OpenAiError error() {
        return error;
    }
}
