package io.kvserve.cli.benchserving;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The gateway's admin API ({@code /admin/v1}, operator token) as the benchmarks use it: a tenant and a
 * key for it. Shared by {@code bench-gateway} (one unlimited tenant) and {@code bench-serving} (one
 * tenant per workload tenant, with {@code --operator-token}).
 */
final class GatewayAdmin {

    private final HttpClient http;
    private final URI gateway;
    private final String operatorToken;

    /** @param http the client to send with (the caller's, which it closes) */
    GatewayAdmin(HttpClient http, URI gateway, String operatorToken) {
        this.http = http;
        this.gateway = gateway;
        this.operatorToken = operatorToken;
    }

    /**
     * A tenant (with {@code limitsJson} as its limits, null for none) and a key for it. A gateway
     * without an admin API (404: the tenancy stand-in, which takes any {@code sk-} key) gets a warning
     * and a dummy key. {@code logName} prefixes the progress line ({@code bench-gateway}).
     */
    String createTenantKey(String tenantId, String limitsJson, String logName, PrintWriter out) throws IOException, InterruptedException {
        check(operatorToken != null, "no --api-key and no --operator-token (or GATEWAY_OPERATOR_TOKEN): the benchmark needs a key "
                + "of a tenant, or the operator token to make one");
        ObjectNode body = StreamDecoder.mapper().createObjectNode();
        body.put("id", tenantId);
        body.put("name", logName);
        if (limitsJson != null) {
            body.set("limits", StreamDecoder.mapper().readTree(limitsJson));
        }
        HttpResponse<String> tenant = post(http, gateway.resolve("/admin/v1/tenants"), operatorToken, body.toString());
        if (tenant.statusCode() == 404) {
            out.println(logName + ": WARNING: the gateway has no admin API (POST /admin/v1/tenants answered 404); "
                    + "assuming the tenancy stand-in, which accepts any sk- key: using sk-bench-unauthenticated");
            out.flush();
            return "sk-bench-unauthenticated";
        }
        check(tenant.statusCode() == 201 || tenant.statusCode() == 200, "POST /admin/v1/tenants answered "
                + tenant.statusCode() + ": " + tenant.body());
        HttpResponse<String> key = post(http, gateway.resolve("/admin/v1/tenants/" + tenantId + "/keys"), operatorToken,
                "{\"name\":\"" + logName + "\"}");
        check(key.statusCode() == 201 || key.statusCode() == 200, "POST /admin/v1/tenants/" + tenantId + "/keys answered "
                + key.statusCode() + ": " + key.body());
        JsonNode secret = StreamDecoder.mapper().readTree(key.body()).path("key");
        check(secret.isString(), "POST /admin/v1/tenants/" + tenantId + "/keys gave no \"key\": " + key.body());
        out.println(logName + ": tenant " + tenantId + (limitsJson == null ? " (no limits)" : " (limits " + limitsJson + ")")
                + " and its key made through the admin API");
        out.flush();
        return secret.asString();
    }

    /** POST of a JSON body with an optional bearer token, 10 s at most. */
    static HttpResponse<String> post(HttpClient http, URI url, String bearer, String json) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
