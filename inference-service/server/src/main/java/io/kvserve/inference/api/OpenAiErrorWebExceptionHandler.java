package io.kvserve.inference.api;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.web.OpenAiResponses;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;

/**
 * Errors that never reach a handler (no route: 404, wrong method: 405, unsupported media type, a
 * failure in the framework) answered as OpenAI error bodies on the API paths; Actuator keeps
 * Boot's own error format.
 */
@Component
@Order(-2) // before Boot's DefaultErrorWebExceptionHandler (-1)
class OpenAiErrorWebExceptionHandler implements WebExceptionHandler {

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable ex) {
        String path = exchange.getRequest().getPath().value();
        if (path.startsWith("/actuator") || exchange.getResponse().isCommitted()) {
            return Mono.error(ex);
        }
        HttpStatusCode status = ex instanceof ResponseStatusException e ? e.getStatusCode()
                : HttpStatus.INTERNAL_SERVER_ERROR;
        String method = exchange.getRequest().getMethod().name();
        OpenAiError error = switch (status.value()) {
            case 404 -> new OpenAiError("no route " + method + " " + path
                    + "; this server has POST /v1/chat/completions, POST /v1/completions, GET /v1/models",
                    "invalid_request_error", null, "unknown_url");
            case 405 -> new OpenAiError("method " + method + " is not allowed on " + path, "invalid_request_error",
                    null, "method_not_allowed");
            default -> status.is4xxClientError()
                    ? new OpenAiError(ex.getMessage(), "invalid_request_error", null, null)
                    : new OpenAiError("internal error", "server_error", null, null);
        };
        exchange.getResponse().setStatusCode(status);
        exchange.getResponse().getHeaders().setContentType(MediaType.APPLICATION_JSON);
        byte[] body = OpenAiResponses.body(error);
        return exchange.getResponse().writeWith(Mono.just(exchange.getResponse().bufferFactory().wrap(body)));
    }
}
