package io.kvserve.gateway.admin;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.gateway.quota.DayUsage;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.gateway.tenant.ApiKey;
import io.kvserve.gateway.tenant.ApiKeys;
import io.kvserve.gateway.tenant.KeyAuthenticator;
import io.kvserve.gateway.tenant.Limits;
import io.kvserve.gateway.tenant.RedisStatus;
import io.kvserve.gateway.tenant.Scope;
import io.kvserve.gateway.tenant.Tenant;
import io.kvserve.gateway.tenant.TenantStore;
import io.kvserve.kvshare.tenant.TenantIds;
import io.kvserve.web.RequestBodies;
import io.kvserve.web.OpenAiResponses;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The operator API: tenants, their API keys and usage (routes in {@link AdminRoutes}, docs in
 * gateway-service/README.md). Every call needs {@code Authorization: Bearer <gateway.admin.operator-token>},
 * compared in constant time; without a configured token every call answers 403. Errors have the OpenAI
 * shape with {@code param} naming the field at fault. Non-blocking end to end.
 */
public final class AdminHandler {

    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
    private static final int MAX_USAGE_DAYS = 90;
    private static final int MAX_WEIGHT = 1_000_000;

    private final TenantStore store;
    private final QuotaService quotas;
    private final KeyAuthenticator authenticator;
    private final OperatorToken operatorToken;
    private final int maxBodyBytes;
    private final InstantSource clock;

    /**
     * @param operatorToken {@code gateway.admin.operator-token}; empty disables the API
     * @param maxBodyBytes  {@code gateway.admin.max-body-bytes}
     */
    public AdminHandler(TenantStore store, QuotaService quotas, KeyAuthenticator authenticator, String operatorToken,
                        int maxBodyBytes, InstantSource clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.quotas = Objects.requireNonNull(quotas, "quotas");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.operatorToken = new OperatorToken(operatorToken, "The admin API");
        this.maxBodyBytes = maxBodyBytes;
        this.clock = Objects.requireNonNull(clock, "clock");
        if (!this.operatorToken.configured()) {
            log.warn("the gateway admin API (/admin/v1) is disabled: set gateway.admin.operator-token to enable it");
        }
    }

    // ---- tenants

    public Mono<ServerResponse> createTenant(ServerRequest request) {
        return operator(request).then(json(request)).flatMap(body -> {
            allowOnly(body, "", "id", "name", "weight", "limits");
            String id = requiredString(body, "id");
            try {
                TenantIds.requireValid(id);
            } catch (IllegalArgumentException e) {
                throw OpenAiException.invalidRequest("id", e.getMessage());
            }
            String name = body.has("name") ? name(body, "name") : id;
            int weight = body.has("weight") ? weight(body) : 1;
            Limits limits = body.has("limits") ? limits(body.get("limits"), Limits.NONE) : Limits.NONE;
            Tenant tenant = new Tenant(id, name, weight, false, limits, now());
            return store.create(tenant).flatMap(created -> {
                if (!created) {
                    return Mono.error(new OpenAiException(409, new OpenAiError("A tenant with id '" + id
                            + "' already exists; PATCH /admin/v1/tenants/" + id + " changes it.",
                            "invalid_request_error", "id", "tenant_exists"), null));
                }
                return respond(HttpStatus.CREATED, view(tenant));
            });
        }).onErrorResume(AdminHandler::error);
    }

    public Mono<ServerResponse> listTenants(ServerRequest request) {
        return operator(request).then(store.tenants())
                .flatMap(tenants -> respond(HttpStatus.OK, list(tenants.stream().map(AdminHandler::view).toList())))
                .onErrorResume(AdminHandler::error);
    }

    public Mono<ServerResponse> getTenant(ServerRequest request) {
        return operator(request).then(Mono.defer(() -> tenant(request)))
                .flatMap(t -> respond(HttpStatus.OK, view(t)))
                .onErrorResume(AdminHandler::error);
    }

    public Mono<ServerResponse> patchTenant(ServerRequest request) {
        return operator(request).then(json(request)).flatMap(body -> {
            allowOnly(body, "", "name", "weight", "limits", "disabled");
            String name = body.has("name") ? name(body, "name") : null;
            Integer weight = body.has("weight") ? weight(body) : null;
            Boolean disabled = body.has("disabled") ? bool(body, "disabled") : null;
            return tenant(request).flatMap(t -> {
                Tenant changed = new Tenant(t.id(), name != null ? name : t.name(), weight != null ? weight : t.weight(),
                        disabled != null ? disabled : t.disabled(),
                        body.has("limits") ? limits(body.get("limits"), t.limits()) : t.limits(), t.createdAt());
                return store.replace(changed).flatMap(ok -> ok ? respond(HttpStatus.OK, view(changed))
                        : Mono.error(tenantNotFound(t.id())));
            });
        }).onErrorResume(AdminHandler::error);
    }

    // ---- keys

    public Mono<ServerResponse> createKey(ServerRequest request) {
        return operator(request).then(json(request)).flatMap(body -> {
            allowOnly(body, "", "name", "scopes", "expires_at", "expires_in_seconds", "limits");
            String name = name(body, "name");
            Set<Scope> scopes = body.has("scopes") ? scopes(body) : Scope.all();
            Instant now = now();
            Instant expiresAt = expiry(body, now);
            Limits limits = body.has("limits") ? limits(body.get("limits"), Limits.NONE) : Limits.NONE;
            return tenant(request).flatMap(t -> {
                String secret = ApiKeys.newKey();
                ApiKey key = new ApiKey(ApiKeys.newKeyId(), t.id(), name, scopes, expiresAt, false, limits,
                        ApiKeys.hint(secret), now);
                return store.createKey(key, ApiKeys.sha256Hex(secret)).flatMap(ok -> {
                    if (!ok) {
                        return Mono.error(tenantNotFound(t.id()));
                    }
                    Map<String, Object> view = view(key);
                    view.put("key", secret);
                    return respond(HttpStatus.CREATED, view);
                });
            });
        }).onErrorResume(AdminHandler::error);
    }

    public Mono<ServerResponse> listKeys(ServerRequest request) {
        return operator(request).then(Mono.defer(() -> tenant(request)))
                .flatMap(t -> store.keys(t.id()))
                .flatMap(keys -> respond(HttpStatus.OK, list(keys.stream().map(AdminHandler::view).toList())))
                .onErrorResume(AdminHandler::error);
    }

    public Mono<ServerResponse> patchKey(ServerRequest request) {
        return operator(request).then(json(request)).flatMap(body -> {
            allowOnly(body, "", "name", "scopes", "limits", "disabled");
            String name = body.has("name") ? name(body, "name") : null;
            Set<Scope> scopes = body.has("scopes") ? scopes(body) : null;
            Boolean disabled = body.has("disabled") ? bool(body, "disabled") : null;
            return key(request).flatMap(entry -> {
                ApiKey k = entry.getValue();
                ApiKey changed = new ApiKey(k.keyId(), k.tenantId(), name != null ? name : k.name(),
                        scopes != null ? scopes : k.scopes(), k.expiresAt(), disabled != null ? disabled : k.disabled(),
                        body.has("limits") ? limits(body.get("limits"), k.limits()) : k.limits(), k.hint(),
                        k.createdAt());
                return store.replaceKey(changed, entry.getKey()).flatMap(ok -> {
                    if (!ok) {
                        return Mono.error(keyNotFound(k.tenantId(), k.keyId()));
                    }
                    authenticator.forget(entry.getKey());
                    return respond(HttpStatus.OK, view(changed));
                });
            });
        }).onErrorResume(AdminHandler::error);
    }

    public Mono<ServerResponse> deleteKey(ServerRequest request) {
        return operator(request).then(Mono.defer(() -> {
            String tenantId = tenantId(request);
            String keyId = request.pathVariable("keyId");
            return store.deleteKey(tenantId, keyId)
                    .switchIfEmpty(Mono.error(() -> keyNotFound(tenantId, keyId)))
                    .flatMap(sha -> {
                        authenticator.forget(sha);
                        Map<String, Object> body = new LinkedHashMap<>();
                        body.put("object", "api_key.deleted");
                        body.put("id", keyId);
                        body.put("deleted", true);
                        return respond(HttpStatus.OK, body);
                    });
        })).onErrorResume(AdminHandler::error);
    }

    // ---- usage

    public Mono<ServerResponse> usage(ServerRequest request) {
        return operator(request).then(Mono.defer(() -> {
            int days = days(request);
            return tenant(request).flatMap(t -> quotas.usage(t.id(), days).zipWith(quotas.currentState(t.id(),
                    t.limits())).flatMap(u -> {
                        Map<String, Object> body = new LinkedHashMap<>();
                        body.put("object", "usage");
                        body.put("tenant_id", t.id());
                        List<Map<String, Object>> data = new ArrayList<>();
                        for (DayUsage d : u.getT1()) {
                            Map<String, Object> day = new LinkedHashMap<>();
                            day.put("date", d.date().toString());
                            day.put("requests", d.requests());
                            day.put("prompt_tokens", d.promptTokens());
                            day.put("completion_tokens", d.completionTokens());
                            day.put("cached_tokens", d.cachedTokens());
                            day.put("total_tokens", d.totalTokens());
                            data.add(day);
                        }
                        body.put("data", data);
                        body.put("current", u.getT2());
                        return respond(HttpStatus.OK, body);
                    }));
        })).onErrorResume(AdminHandler::error);
    }

    // ---- lookups

    private Mono<Tenant> tenant(ServerRequest request) {
        String id = tenantId(request);
        return store.tenant(id).switchIfEmpty(Mono.error(() -> tenantNotFound(id)));
    }

    private Mono<Map.Entry<String, ApiKey>> key(ServerRequest request) {
        String tenantId = tenantId(request);
        String keyId = request.pathVariable("keyId");
        return tenant(request).then(store.key(tenantId, keyId))
                .switchIfEmpty(Mono.error(() -> keyNotFound(tenantId, keyId)));
    }

    private static String tenantId(ServerRequest request) {
        String id = request.pathVariable("id");
        try {
            return TenantIds.requireValid(id);
        } catch (IllegalArgumentException e) {
            throw tenantNotFound(id);
        }
    }

    private static OpenAiException tenantNotFound(String id) {
        return new OpenAiException(404, new OpenAiError("No tenant with id '" + printable(id) + "'.", "not_found_error",
                "id", "tenant_not_found"), null);
    }

    private static OpenAiException keyNotFound(String tenantId, String keyId) {
        return new OpenAiException(404, new OpenAiError("Tenant '" + tenantId + "' has no API key with id '"
                + printable(keyId) + "'.", "not_found_error", "key_id", "key_not_found"), null);
    }

    // ---- fields

    private static void allowOnly(JsonNode body, String path, String... fields) {
        Iterator<String> names = body.propertyNames().iterator();
        while (names.hasNext()) {
            String name = names.next();
            if (!List.of(fields).contains(name)) {
                throw OpenAiException.invalidRequest(path + name, "Unknown field '" + path + name + "'; allowed: "
                        + String.join(", ", fields) + ".");
            }
        }
    }

    private static String requiredString(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || !node.isString() || node.asString().isEmpty()) {
            throw OpenAiException.invalidRequest(field, "'" + field + "' is required and must be a non-empty string.");
        }
        return node.asString();
    }

    private static String name(JsonNode body, String field) {
        String name = requiredString(body, field);
        if (name.isBlank() || name.length() > Tenant.MAX_NAME_LENGTH) {
            throw OpenAiException.invalidRequest(field, "'" + field + "' must be 1.." + Tenant.MAX_NAME_LENGTH
                    + " characters and not blank, got " + name.length() + " characters.");
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isISOControl(name.charAt(i))) {
                throw OpenAiException.invalidRequest(field, "'" + field + "' has a control character at index " + i + ".");
            }
        }
        return name;
    }

    private static int weight(JsonNode body) {
        JsonNode node = body.get("weight");
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < 1 || node.asInt() > MAX_WEIGHT) {
            throw OpenAiException.invalidRequest("weight", "'weight' must be an integer in 1.." + MAX_WEIGHT + ", got "
                    + node + ".");
        }
        return node.asInt();
    }

    private static boolean bool(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (!node.isBoolean()) {
            throw OpenAiException.invalidRequest(field, "'" + field + "' must be true or false, got " + node + ".");
        }
        return node.asBoolean();
    }

    /** {@code base} with the limits the object names replaced (null = unlimited); absent ones kept. */
    private static Limits limits(JsonNode node, Limits base) {
        if (!node.isObject()) {
            throw OpenAiException.invalidRequest("limits", "'limits' must be an object with any of "
                    + String.join(", ", Limits.wireNames()) + ".");
        }
        allowOnly(node, "limits.", Limits.wireNames());
        Limits limits = base;
        for (String field : Limits.wireNames()) {
            if (node.has(field)) {
                JsonNode v = node.get(field);
                if (v.isNull()) {
                    limits = limits.with(field, null);
                } else if (v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= 1) {
                    limits = limits.with(field, v.asLong());
                } else {
                    throw OpenAiException.invalidRequest("limits." + field, "'limits." + field + "' must be an integer "
                            + ">= 1, or null for unlimited, got " + v + ".");
                }
            }
        }
        return limits;
    }

    private static Set<Scope> scopes(JsonNode body) {
        JsonNode node = body.get("scopes");
        String allowed = String.join(", ", Scope.all().stream().map(Scope::wireName).toList());
        if (!node.isArray() || node.isEmpty()) {
            throw OpenAiException.invalidRequest("scopes", "'scopes' must be a non-empty array of " + allowed
                    + " (omit it for all).");
        }
        Set<Scope> scopes = EnumSet.noneOf(Scope.class);
        for (int i = 0; i < node.size(); i++) {
            JsonNode s = node.get(i);
            try {
                scopes.add(Scope.fromWire(s.isString() ? s.asString() : s.toString()));
            } catch (IllegalArgumentException e) {
                throw OpenAiException.invalidRequest("scopes", "'scopes[" + i + "]': " + e.getMessage() + ".");
            }
        }
        return scopes;
    }

    private static Instant expiry(JsonNode body, Instant now) {
        JsonNode at = body.get("expires_at");
        JsonNode in = body.get("expires_in_seconds");
        if (at != null && !at.isNull() && in != null && !in.isNull()) {
            throw OpenAiException.invalidRequest("expires_at", "Give either 'expires_at' or 'expires_in_seconds', "
                    + "not both.");
        }
        if (at != null && !at.isNull()) {
            Instant expiresAt;
            try {
                expiresAt = OffsetDateTime.parse(at.isString() ? at.asString() : at.toString()).toInstant();
            } catch (DateTimeParseException e) {
                throw OpenAiException.invalidRequest("expires_at", "'expires_at' must be an ISO-8601 date-time with an "
                        + "offset, e.g. 2027-01-31T00:00:00Z, got " + at + ".");
            }
            if (!expiresAt.isAfter(now)) {
                throw OpenAiException.invalidRequest("expires_at", "'expires_at' (" + expiresAt + ") is not in the "
                        + "future (now is " + now + ").");
            }
            return expiresAt;
        }
        if (in != null && !in.isNull()) {
            if (!in.isIntegralNumber() || !in.canConvertToLong() || in.asLong() < 1
                    || in.asLong() > Duration.ofDays(3650).toSeconds()) {
                throw OpenAiException.invalidRequest("expires_in_seconds", "'expires_in_seconds' must be an integer in "
                        + "1.." + Duration.ofDays(3650).toSeconds() + ", got " + in + ".");
            }
            return now.plusSeconds(in.asLong());
        }
        return null;
    }

    private static int days(ServerRequest request) {
        String days = request.queryParam("days").orElse("7");
        try {
            int n = Integer.parseInt(days);
            if (n >= 1 && n <= MAX_USAGE_DAYS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw OpenAiException.invalidRequest("days", "'days' must be an integer in 1.." + MAX_USAGE_DAYS + ", got '"
                + printable(days) + "'.");
    }

    // ---- views

    private static Map<String, Object> view(Tenant t) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("object", "tenant");
        v.put("id", t.id());
        v.put("name", t.name());
        v.put("weight", t.weight());
        v.put("disabled", t.disabled());
        v.put("limits", t.limits().toMap());
        v.put("created_at", t.createdAt().getEpochSecond());
        return v;
    }

    /** A key as the API shows it: never its secret or hash. */
    private static Map<String, Object> view(ApiKey k) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("object", "api_key");
        v.put("id", k.keyId());
        v.put("tenant_id", k.tenantId());
        v.put("name", k.name());
        v.put("scopes", k.scopes().stream().sorted().map(Scope::wireName).toList());
        v.put("expires_at", k.expiresAt() == null ? null : k.expiresAt().getEpochSecond());
        v.put("disabled", k.disabled());
        v.put("limits", k.limits().toMap());
        v.put("hint", k.hint());
        v.put("created_at", k.createdAt().getEpochSecond());
        return v;
    }

    private static Map<String, Object> list(List<?> data) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("object", "list");
        v.put("data", data);
        return v;
    }

    // ---- plumbing

    private Instant now() {
        return clock.instant();
    }

    private Mono<Void> operator(ServerRequest request) {
        return Mono.fromRunnable(() -> operatorToken.check(request.headers().firstHeader(HttpHeaders.AUTHORIZATION)));
    }

    private Mono<JsonNode> json(ServerRequest request) {
        return RequestBodies.bytes(request, maxBodyBytes)
                .map(bytes -> {
                    if (bytes.length == 0) {
                        throw OpenAiException.invalidRequest(null, "The request body is empty; send a JSON object.");
                    }
                    JsonNode node;
                    try {
                        node = OpenAiJson.MAPPER.readTree(bytes);
                    } catch (JacksonException e) {
                        throw OpenAiException.invalidRequest(null, "The body is not valid JSON: "
                                + e.getOriginalMessage());
                    }
                    if (node == null || !node.isObject()) {
                        throw OpenAiException.invalidRequest(null, "The body must be a JSON object.");
                    }
                    return node;
                });
    }

    private static Mono<ServerResponse> respond(HttpStatus status, Object body) {
        return ServerResponse.status(status).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(body));
    }

    static Mono<ServerResponse> error(Throwable e) {
        OpenAiException error = switch (e) {
            case OpenAiException o -> o;
            case IllegalArgumentException iae -> OpenAiException.invalidRequest(null, iae.getMessage());
            default -> RedisStatus.isOutage(e) ? OpenAiException.unavailable("The gateway's store (Redis) is "
                    + "unreachable; please retry in 5s.", Duration.ofSeconds(5)) : null;
        };
        if (error == null) {
            return Mono.error(e);
        }
        return OpenAiResponses.error(error);
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return s.length() > 64 ? b + "..." : b.toString();
    }
}
