package io.kvserve.engine;

import java.util.Objects;

/**
 * A request the engine refuses, with the parameter at fault: the service maps it to an OpenAI error
 * body with status 400 ({@code {"error":{"message", "type":"invalid_request_error", "param", ...}}}).
 * Thrown before a request enters the step loop, so a bad request never reaches other sequences.
 */
public final class InvalidRequestException extends IllegalArgumentException {

    private final String param;

    /**
     * @param param   the request parameter at fault, in the OpenAI API's spelling ({@code temperature},
     *                {@code prompt}, {@code logit_bias}); null when no single parameter is
     * @param message what is wrong and what is allowed, with the value received
     */
    public InvalidRequestException(String param, String message) {
        super(Objects.requireNonNull(message, "message"));
        this.param = param;
    }

    /** The parameter at fault, or null. */
    public String param() {
        return param;
    }
}
