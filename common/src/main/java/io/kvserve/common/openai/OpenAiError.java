package io.kvserve.common.openai;

import java.util.Objects;

/**
 * The body of every error the platform answers, as OpenAI writes it:
 * {@code {"error":{"message":..., "type":..., "param":..., "code":...}}}.
 *
 * @param message what went wrong and what is allowed, with the value received
 * @param type    {@code invalid_request_error}, {@code not_found_error}, {@code rate_limit_exceeded},
 *                {@code service_unavailable}, {@code server_error}, ...
 * @param param   the request parameter at fault, in the API's spelling; null when none
 * @param code    a stable machine-readable code ({@code model_not_found}, {@code context_length_exceeded}); may be null
 */
public record OpenAiError(String message, String type, String param, String code) {

    public OpenAiError {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(type, "type");
    }

    /** The error wrapped as OpenAI sends it. */
    public record Body(OpenAiError error) {
    }
}
