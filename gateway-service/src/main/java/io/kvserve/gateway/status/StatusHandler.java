package io.kvserve.gateway.status;

import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.gateway.admin.OperatorToken;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.gateway.route.GatewayMetrics;
import io.kvserve.gateway.tenant.RedisStatus;
import io.kvserve.gateway.tenant.TenantStore;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The gateway's status page for operators.
 *
 * <pre>
 *   GET /status            the page (HTML, no credential needed: it holds no data, only a login form)
 *   GET /status/status.js  its script, GET /status/status.css its style (from classpath:status/, read once)
 *   GET /status/api        the data, {@link StatusReport}: Authorization: Bearer &lt;operator token&gt;
 *                          (401 without or with a wrong one, 403 while none is configured, as /admin/v1)
 * </pre>
 *
 * The page keeps the token in {@code sessionStorage} and polls {@code /status/api} every 2 s. The files
 * are served here, not by Boot's static resources, and with a Content-Security-Policy that allows only
 * this origin's script and style: the page has no inline script and writes data with
 * {@code textContent}, so a tenant name cannot become markup.
 */
public final class StatusHandler {

    private static final Logger LOG = LoggerFactory.getLogger(StatusHandler.class);
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; "
            + "base-uri 'none'";

    private final OperatorToken operator;
    private final StatusReport report;
    private final byte[] html;
    private final byte[] script;
    private final byte[] style;

    StatusHandler(OperatorToken operator, StatusReport report) {
        this.operator = operator;
        this.report = report;
        this.html = resource("status/index.html");
        this.script = resource("status/status.js");
        this.style = resource("status/status.css");
        if (!operator.configured()) {
            LOG.warn("the status page's data (/status/api) is disabled: set gateway.admin.operator-token to enable it");
        }
    }

    /**
     * @param operatorToken {@code gateway.admin.operator-token}; empty disables {@code /status/api}
     * @param redis         the gateway's Redis connection (tenants and the instance registry)
     */
    public static StatusHandler create(String operatorToken, Supplier<StatefulRedisConnection<String, String>> redis,
                                       RedisStatus redisStatus, TenantStore tenants, QuotaService quotas,
                                       CircuitBreakerRegistry breakers, RecentRequests recent,
                                       GatewayMetrics metrics) {
        return new StatusHandler(new OperatorToken(operatorToken, "The status API"),
                StatusReport.of(new LiveInstances(redis), tenants, quotas, breakers, recent, metrics, redisStatus));
    }

    public RouterFunction<ServerResponse> routes() {
        return RouterFunctions.route()
                .GET("/status", r -> file(html, MediaType.TEXT_HTML))
                .GET("/status/", r -> file(html, MediaType.TEXT_HTML))
                .GET("/status/status.js", r -> file(script, MediaType.valueOf("text/javascript;charset=UTF-8")))
                .GET("/status/status.css", r -> file(style, MediaType.valueOf("text/css;charset=UTF-8")))
                .GET("/status/api", this::api)
                .build();
    }

    Mono<ServerResponse> api(ServerRequest request) {
        return Mono.fromRunnable(() -> operator.check(request.headers().firstHeader(HttpHeaders.AUTHORIZATION)))
                .then(Mono.defer(report::snapshot))
                .flatMap(body -> secure(ServerResponse.ok()).contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(body)))
                .onErrorResume(OpenAiException.class, e -> secure(ServerResponse.status(e.status()))
                        .contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(new OpenAiError.Body(e.error()))));
    }

    private static Mono<ServerResponse> file(byte[] bytes, MediaType type) {
        return secure(ServerResponse.ok()).contentType(type).bodyValue(bytes);
    }

    private static ServerResponse.BodyBuilder secure(ServerResponse.BodyBuilder response) {
        return response.cacheControl(CacheControl.noStore())
                .header("Content-Security-Policy", CSP)
                .header("X-Content-Type-Options", "nosniff")
                .header("X-Frame-Options", "DENY")
                .header("Referrer-Policy", "no-referrer");
    }

    private static byte[] resource(String path) {
        try (InputStream in = StatusHandler.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("classpath:" + path + " is missing from the gateway's jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read classpath:" + path, e);
        }
    }
}
