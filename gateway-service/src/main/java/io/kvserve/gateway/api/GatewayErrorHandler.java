package io.kvserve.gateway.api;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.web.OpenAiResponses;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;

/**
 * Errors outside a handler's own answer, as OpenAI error bodies: no route (404), wrong method (405),
 * and a stream that failed before its first frame (no instance could begin it: the status line was
 * not sent yet, so the client gets the real status, e.g. 503, not a 200 with an error event).
 * Actuator keeps Boot's own error format.
 */
@Component
@Order(-2) // before Boot's DefaultErrorWebExceptionHandler (-1)
class GatewayErrorHandler implements WebExceptionHandler {

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable ex) {
        String path = exchange.getRequest().getPath().value();
        ServerHttpResponse response = exchange.getResponse();
        if (path.startsWith("/actuator") || response.isCommitted()) {
            return Mono.error(ex);
        }
        OpenAiException error = switch (ex) {
            case OpenAiException e -> e;
            case ResponseStatusException e -> routeError(e.getStatusCode(), exchange);
            default -> ErrorResponses.toOpenAi(ex);
        };
        response.setStatusCode(HttpStatusCode.valueOf(error.status()));
        HttpHeaders headers = response.getHeaders();
        headers.setContentType(MediaType.APPLICATION_JSON);
        headers.remove(HttpHeaders.CACHE_CONTROL);
        error.retryAfter().ifPresent(d -> headers.set(HttpHeaders.RETRY_AFTER, OpenAiResponses.retryAfterSeconds(d)));
        return response.writeWith(Mono.just(response.bufferFactory().wrap(OpenAiResponses.body(error.error()))));
    }

    private static OpenAiException routeError(HttpStatusCode status, ServerWebExchange exchange) {
        String method = exchange.getRequest().getMethod().name();
        String path = exchange.getRequest().getPath().value();
        OpenAiError error = switch (status.value()) {
            case 404 -> new OpenAiError("no route " + method + " " + path + "; the gateway serves POST "
                    + "/v1/chat/completions, POST /v1/completions, GET /v1/models", "invalid_request_error", null,
                    "unknown_url");
            case 405 -> new OpenAiError("method " + method + " is not allowed on " + path, "invalid_request_error",
                    null, "method_not_allowed");
            case 415 -> new OpenAiError("unsupported content type; send application/json", "invalid_request_error",
                    null, "unsupported_media_type");
            default -> status.is4xxClientError()
                    ? new OpenAiError("the request was refused (" + status.value() + ")", "invalid_request_error",
                    null, null)
                    : new OpenAiError("internal error", "server_error", null, null);
        };
        return new OpenAiException(status.is4xxClientError() || status.is5xxServerError() ? status.value()
                : HttpStatus.INTERNAL_SERVER_ERROR.value(), error, null);
    }
}
