package io.kvserve.gateway.route;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/**
 * An instance answered with an error status. 429 and 5xx say "not here, not now": the next fallback
 * is tried and the circuit breaker counts it. Any other status is about the request itself (400
 * context too long, 404 model gone): {@link #error()} goes back to the client as the instance wrote
 * it, thrown as the {@link OpenAiException} the circuit breaker ignores (kvserve-gateway.properties),
 * since a bad request says nothing about the instance's health.
 */
public final class UpstreamStatusException extends RuntimeException {

    private final String instanceId;
    private final int status;
    private final OpenAiException error;

    UpstreamStatusException(String instanceId, int status, byte[] body, Duration retryAfter) {
        super("instance " + instanceId + " answered " + status);
        this.instanceId = instanceId;
        this.status = status;
        this.error = new OpenAiException(status, parse(status, body), retryAfter);
    }

    /** A service's {@code Retry-After} in seconds, or null when absent or not a number of seconds. */
    static Duration retryAfter(String header) {
        if (header == null) {
            return null;
        }
        try {
            return Duration.ofSeconds(Long.parseLong(header.trim()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Whether another instance may succeed where this one refused. */
    public boolean retryable() {
        return status == 429 || status >= 500;
    }

    public String instanceId() {
        return instanceId;
    }

    public int status() {
        return status;
    }

    /** The instance's error as the client gets it. */
    public OpenAiException error() {
        return error;
    }

    private static OpenAiError parse(int status, byte[] body) {
        try {
            JsonNode node = OpenAiJson.MAPPER.readTree(body).path("error");
            if (node.isObject() && node.path("message").isString()) {
                return new OpenAiError(node.path("message").asString(), node.path("type").asString("server_error"),
                        node.path("param").isString() ? node.path("param").asString() : null,
                        node.path("code").isString() ? node.path("code").asString() : null);
            }
        } catch (RuntimeException ignored) {
            // not an OpenAI error body: described below
        }
        return new OpenAiError("the inference instance answered HTTP " + status, status >= 500 ? "server_error"
                : "invalid_request_error", null, "upstream_error");
    }
}
