package io.kvserve.kvshare.api;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.kvshare.config.KvshareProperties;
import io.kvserve.kvshare.index.KvIndex;
import io.kvserve.kvshare.ingest.EventConsumer;
import io.kvserve.kvshare.ingest.InstanceRegistry;
import io.kvserve.kvshare.tenant.PublishedPrefixes;
import io.kvserve.kvshare.tenant.TenantSalts;
import io.kvserve.kvshare.tenant.TenantStats;
import io.kvserve.web.RequestBodies;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * kvshare's REST API (docs: kvshare-service/README.md). The hit query is for the scheduler; the
 * tenant, published-prefix and stats endpoints are for operators and need the operator token.
 */
public final class KvshareHandler {

    private static final int MAX_BODY_BYTES = 4 << 20;
    private static final int MAX_TOKEN_IDS = 1 << 20;

    private final HitService hits;
    private final KvIndex index;
    private final InstanceRegistry registry;
    private final EventConsumer consumer;
    private final TenantSalts salts;
    private final PublishedPrefixes published;
    private final TenantStats stats;
    private final KvshareProperties properties;

    public KvshareHandler(HitService hits, KvIndex index, InstanceRegistry registry, EventConsumer consumer,
                          TenantSalts salts, PublishedPrefixes published, TenantStats stats,
                          KvshareProperties properties) {
        this.hits = hits;
        this.index = index;
        this.registry = registry;
        this.consumer = consumer;
        this.salts = salts;
        this.published = published;
        this.stats = stats;
        this.properties = properties;
    }

    // ---- hit query

    public Mono<ServerResponse> hits(ServerRequest request) {
        return json(request).flatMap(body -> {
            String model = text(body, "model");
            String tenant = text(body, "tenant");
            JsonNode queries = body.get("queries");
            if (queries == null || !queries.isArray() || queries.isEmpty()) {
                throw ApiError.badRequest("queries", "'queries' must be a non-empty array of {\"token_ids\": [...]} "
                        + "or {\"block_hashes\": [...]}");
            }
            if (queries.size() > properties.maxQueries()) {
                throw ApiError.tooLarge("queries", "at most " + properties.maxQueries() + " queries per call, got "
                        + queries.size());
            }
            List<HitService.ChainSpec> specs = new ArrayList<>(queries.size());
            for (int q = 0; q < queries.size(); q++) {
                specs.add(chainSpec(queries.get(q), "queries[" + q + "]"));
            }
            return hits.query(model, tenant, specs);
        }).flatMap(answer -> ok(answer)).onErrorResume(KvshareHandler::error);
    }

    private HitService.ChainSpec chainSpec(JsonNode query, String path) {
        if (query == null || !query.isObject()) {
            throw ApiError.badRequest(path, path + " must be an object");
        }
        JsonNode ids = query.get("token_ids");
        JsonNode hashes = query.get("block_hashes");
        if ((ids == null) == (hashes == null) || query.size() != 1) {
            throw ApiError.badRequest(path, path + " must have exactly one of 'token_ids' and 'block_hashes'");
        }
        if (ids != null) {
            int[] tokenIds = tokenIds(ids, path + ".token_ids");
            if (tokenIds.length / properties.blockSize() > properties.maxChainBlocks()) {
                throw ApiError.tooLarge(path + ".token_ids", "a prompt of " + tokenIds.length + " tokens has more than "
                        + properties.maxChainBlocks() + " blocks");
            }
            return new HitService.ChainSpec.TokenIds(tokenIds);
        }
        String param = path + ".block_hashes";
        if (!hashes.isArray() || hashes.isEmpty()) {
            throw ApiError.badRequest(param, param + " must be a non-empty array of 32-hex-digit block hashes");
        }
        if (hashes.size() > properties.maxChainBlocks()) {
            throw ApiError.tooLarge(param, "a chain has at most " + properties.maxChainBlocks() + " blocks, got "
                    + hashes.size());
        }
        List<BlockHash> chain = new ArrayList<>(hashes.size());
        for (int i = 0; i < hashes.size(); i++) {
            JsonNode h = hashes.get(i);
            String hex = h.isString() ? h.asString() : null;
            if (hex == null || hex.length() != 32 || !isHex(hex)) {
                throw ApiError.badRequest(param, param + "[" + i + "] must be 32 hex digits, got "
                        + (hex == null ? h.getNodeType().name().toLowerCase() : hex.length() + " characters"));
            }
            chain.add(BlockHash.fromHex(hex));
        }
        return new HitService.ChainSpec.Hashes(chain);
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    private static int[] tokenIds(JsonNode node, String param) {
        if (!node.isArray() || node.isEmpty()) {
            throw ApiError.badRequest(param, param + " must be a non-empty array of token ids");
        }
        if (node.size() > MAX_TOKEN_IDS) {
            throw ApiError.tooLarge(param, param + " has more than " + MAX_TOKEN_IDS + " token ids");
        }
        int[] ids = new int[node.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = node.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                throw ApiError.badRequest(param, param + "[" + i + "] must be a non-negative integer, got " + id);
            }
            ids[i] = id.asInt();
        }
        return ids;
    }

    // ---- operator: tenants

    public Mono<ServerResponse> listTenants(ServerRequest request) {
        return operator(request, () -> Map.of("tenants", salts.tenantIds()));
    }

    public Mono<ServerResponse> createTenant(ServerRequest request) {
        String tenant = request.pathVariable("tenant");
        return operator(request, () -> {
            boolean existed = salts.exists(tenant);
            salts.saltOf(tenant); // created now; never returned
            return Map.of("tenant", tenant, "created", !existed);
        });
    }

    public Mono<ServerResponse> deleteTenant(ServerRequest request) {
        String tenant = request.pathVariable("tenant");
        return operator(request, () -> {
            if (!salts.exists(tenant)) {
                throw ApiError.notFound("tenant", "unknown tenant '" + tenant + "'", "tenant_not_found");
            }
            salts.delete(tenant);
            return Map.of("tenant", tenant, "deleted", true);
        });
    }

    // ---- operator: published prefixes

    public Mono<ServerResponse> listPublished(ServerRequest request) {
        String model = request.pathVariable("model");
        return operator(request, () -> Map.of("model", model, "prefixes", published.list(model)));
    }

    public Mono<ServerResponse> publish(ServerRequest request) {
        String model = request.pathVariable("model");
        String name = request.pathVariable("name");
        return checkOperator(request).then(json(request)).flatMap(body -> blocking(() -> {
            JsonNode ids = body.get("token_ids");
            if (ids == null || body.size() != 1) {
                throw ApiError.badRequest("token_ids", "the body must be {\"token_ids\": [...]}: the prefix's tokens "
                        + "as the model's tokenizer gives them");
            }
            return published.publish(model, name, tokenIds(ids, "token_ids"));
        })).flatMap(KvshareHandler::ok).onErrorResume(KvshareHandler::error);
    }

    public Mono<ServerResponse> deletePublished(ServerRequest request) {
        String model = request.pathVariable("model");
        String name = request.pathVariable("name");
        return operator(request, () -> {
            if (!published.delete(model, name)) {
                throw ApiError.notFound("name", "no published prefix '" + name + "' for model '" + model + "'",
                        "prefix_not_found");
            }
            return Map.of("model", model, "name", name, "deleted", true);
        });
    }

    // ---- operator: stats

    public Mono<ServerResponse> stats(ServerRequest request) {
        return operator(request, () -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("redis_up", consumer.redisUp());
            body.put("num_blocks", index.numBlocks());
            body.put("num_entries", index.numEntries());
            body.put("stream_lag_entries", consumer.lag());
            body.put("live_instances", registry.live().stream().map(i -> Map.of("id", i.id(), "model", i.model(),
                    "url", i.url(), "status", i.status().wireName())).toList());
            body.put("indexed_instances", index.indexedInstances());
            body.put("instances", stats.instances());
            Map<String, Object> tenants = new LinkedHashMap<>();
            for (String tenant : salts.tenantIds()) {
                tenants.put(tenant, stats.of(tenant));
            }
            body.put("tenants", tenants);
            return body;
        });
    }

    public Mono<ServerResponse> tenantStats(ServerRequest request) {
        String tenant = request.pathVariable("tenant");
        return operator(request, () -> {
            if (!salts.exists(tenant)) {
                throw ApiError.notFound("tenant", "unknown tenant '" + tenant + "'", "tenant_not_found");
            }
            return Map.of("tenant", tenant, "stats", stats.of(tenant));
        });
    }

    // ---- plumbing

    private interface Call {
        Object get();
    }

    private Mono<ServerResponse> operator(ServerRequest request, Call call) {
        return checkOperator(request).then(blocking(call)).flatMap(KvshareHandler::ok)
                .onErrorResume(KvshareHandler::error);
    }

    private static Mono<Object> blocking(Call call) {
        return Mono.fromCallable(call::get).subscribeOn(Schedulers.boundedElastic())
                .onErrorMap(IllegalArgumentException.class, e -> ApiError.badRequest(null, e.getMessage()));
    }

    private Mono<Void> checkOperator(ServerRequest request) {
        return Mono.fromRunnable(() -> {
            String token = properties.operatorToken();
            if (token.isEmpty()) {
                throw ApiError.forbidden("the operator API is disabled: set kvshare.operator-token");
            }
            String given = request.headers().firstHeader(HttpHeaders.AUTHORIZATION);
            byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
            if (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
                throw ApiError.forbidden("this endpoint needs the operator token (Authorization: Bearer ...)");
            }
        });
    }

    private static Mono<JsonNode> json(ServerRequest request) {
        return RequestBodies.bytes(request, MAX_BODY_BYTES, () -> ApiError.tooLarge(null, "the body is larger than "
                        + MAX_BODY_BYTES + " bytes"))
                .map(bytes -> {
                    if (bytes.length == 0) {
                        throw ApiError.badRequest(null, "the request body is empty; send a JSON object");
                    }
                    JsonNode node;
                    try {
                        node = OpenAiJson.MAPPER.readTree(bytes);
                    } catch (JacksonException e) {
                        throw ApiError.badRequest(null, "the body is not valid JSON: " + e.getOriginalMessage());
                    }
                    if (node == null || !node.isObject()) {
                        throw ApiError.badRequest(null, "the body must be a JSON object");
                    }
                    return node;
                });
    }

    private static String text(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || !node.isString() || node.asString().isBlank()) {
            throw ApiError.badRequest(field, "'" + field + "' must be a non-empty string");
        }
        return node.asString();
    }

    private static Mono<ServerResponse> ok(Object body) {
        return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(body));
    }

    static Mono<ServerResponse> error(Throwable e) {
        ApiError error = switch (e) {
            case ApiError a -> a;
            case IllegalArgumentException iae -> ApiError.badRequest(null, iae.getMessage());
            default -> null;
        };
        if (error == null) {
            return Mono.error(e);
        }
        return ServerResponse.status(error.status()).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(new OpenAiError.Body(error.error())));
    }
}
