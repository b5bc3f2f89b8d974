package io.kvserve.gateway.api;

import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * {@code x-request-id}: the client's when it is a sane token (a header value with CR/LF, spaces or
 * other characters never reaches a log line or another service), else a new one; echoed on every
 * response and sent to the scheduler and the instance, so one id follows a request through every
 * service's logs. Also notes when the request arrived, for the overhead figures.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class RequestIdFilter implements WebFilter {

    public static final String HEADER = "x-request-id";
    private static final String ID = RequestIdFilter.class.getName() + ".id";
    private static final String ARRIVED = RequestIdFilter.class.getName() + ".arrivedNanos";
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        exchange.getAttributes().put(ARRIVED, System.nanoTime());
        String given = exchange.getRequest().getHeaders().getFirst(HEADER);
        String id = given != null && SANE.matcher(given).matches() ? given : UUID.randomUUID().toString();
        exchange.getAttributes().put(ID, id);
        exchange.getResponse().getHeaders().set(HEADER, id);
        return chain.filter(exchange);
    }

    static String id(ServerRequest request) {
        return request.attribute(ID).map(Object::toString).orElseGet(() -> UUID.randomUUID().toString());
    }

    static long arrivedNanos(ServerRequest request) {
        return request.attribute(ARRIVED).map(Long.class::cast).orElseGet(System::nanoTime);
    }
}
