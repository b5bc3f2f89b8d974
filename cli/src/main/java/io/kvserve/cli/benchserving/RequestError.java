package io.kvserve.cli.benchserving;

/**
 * Why one request failed.
 *
 * @param kind    {@code http} (status >= 400), {@code stream} (an error event, a stream cut before
 *                {@code [DONE]}, no content, a malformed chunk), {@code connection} or {@code timeout}
 * @param status  the HTTP status, 0 when there was none
 * @param type    the OpenAI {@code error.type} when the server sent one, else what happened
 *                ({@code incomplete}, {@code no_content}, {@code malformed_chunk}, the exception's class)
 * @param message the server's message or the exception's, for the JSON report
 */
record RequestError(String kind, int status, String type, String message) {

    /** The key errors are counted by: {@code http_429:rate_limit_exceeded}, {@code stream:server_error}, {@code timeout}. */
    String key() {
        return switch (kind) {
            case "http" -> "http_" + status + (type == null ? "" : ":" + type);
            case "timeout" -> "timeout";
            default -> kind + ":" + type;
        };
    }
}
