package io.kvserve.gateway.tenant;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import reactor.core.publisher.Mono;

/**
 * Turns an {@code Authorization} header into a {@link Caller}, or an OpenAI-style error.
 *
 * <h2>Lookups</h2>
 * The key's SHA-256 is looked up in Redis with one script call that returns the key's record and its
 * tenant's ({@link TenantStore#lookup}). A found record is kept in a fresh cache for
 * {@code gateway.auth.cache-ttl} (a hot key costs no Redis call; concurrent misses of one key share one
 * lookup) and in a stale cache for {@code gateway.auth.stale-ttl}, which only a Redis outage reads.
 * Records are cached whether the key is usable or not; the checks (disabled, expired, tenant disabled)
 * run on every call, so a key disabled in Redis is refused within the fresh TTL and an expiry takes
 * effect at once. A key Redis does not know is not cached (and is dropped from the stale cache).
 *
 * <h2>Errors</h2>
 * <ul>
 *   <li>401 {@code invalid_request_error}/{@code invalid_api_key}: no header, a header that is not
 *       {@code Bearer <key>} (control characters, longer than {@value #MAX_HEADER_LENGTH}), an unknown
 *       key, a disabled key, an expired key. The key is never echoed whole ({@link ApiKeys#masked}).</li>
 *   <li>403 {@code permission_error}/{@code tenant_disabled}: the key is valid but its tenant is disabled
 *       (or was deleted): authenticated, not permitted.</li>
 *   <li>503 {@code service_unavailable} with {@code Retry-After}: Redis is unreachable and the outage
 *       policy does not serve this key ({@link RedisOutagePolicy}).</li>
 * </ul>
 */
public final class KeyAuthenticator {

    /** The longest {@code Authorization} header accepted, in characters. */
    public static final int MAX_HEADER_LENGTH = 512;
    /** Retry-After of the 503 answered while Redis is unreachable. */
    public static final Duration OUTAGE_RETRY_AFTER = Duration.ofSeconds(5);

    private static final String BEARER = "Bearer ";

    private final TenantStore store;
    private final RedisStatus status;
    private final RedisOutagePolicy policy;
    private final InstantSource clock;
    private final AsyncCache<String, Object> fresh; // TenantStore.Found, or a LookupFailure briefly
    private final Cache<String, TenantStore.Found> stale;

    public KeyAuthenticator(TenantStore store, RedisStatus status, RedisOutagePolicy policy,
                            TenancyProperties.Auth auth, InstantSource clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.status = Objects.requireNonNull(status, "status");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.fresh = Caffeine.newBuilder().expireAfterWrite(auth.cacheTtl()).maximumSize(auth.maxCachedKeys())
                .buildAsync();
        this.stale = Caffeine.newBuilder().expireAfterWrite(auth.staleTtl()).maximumSize(auth.maxCachedKeys())
                .build();
    }

    /**
     * The caller the raw {@code Authorization} header value (possibly null) identifies, or an
     * {@link OpenAiException} (401, 403, 503) as the class comment lists. Never blocks.
     */
    public Mono<Caller> authenticate(String authorizationHeaderValue) {
        return Mono.defer(() -> {
            String key = parse(authorizationHeaderValue);
            if (!ApiKeys.wellFormed(key)) {
                return Mono.error(incorrectKey(key));
            }
            String sha = ApiKeys.sha256Hex(key);
            CompletableFuture<Object> cached = fresh.getIfPresent(sha);
            if (cached != null && cached.isDone() && cached.join() instanceof TenantStore.Found found) {
                if (policy == RedisOutagePolicy.FAIL_CLOSED && !status.up()) {
                    return Mono.error(unavailable());
                }
                return Mono.just(check(found, key));
            }
            if (!status.up()) {
                // known down (the probe brings it back): no lookup, so that a hung Redis costs no timeout per request
                return duringOutage(sha, key);
            }
            // Failures complete the shared future normally (as a LookupFailure, removed at once) rather than
            // exceptionally, so that Caffeine does not log every lookup of an outage.
            CompletableFuture<Object> lookup = fresh.get(sha, (k, executor) -> store.lookup(k).<Object>map(f -> f)
                    .onErrorResume(e -> Mono.just(new LookupFailure(e))).toFuture());
            return Mono.fromFuture(lookup, true)
                    .flatMap(result -> {
                        if (result instanceof LookupFailure failure) {
                            fresh.asMap().remove(sha, lookup);
                            return Mono.error(failure.cause());
                        }
                        TenantStore.Found found = (TenantStore.Found) result;
                        stale.put(sha, found);
                        return Mono.just(check(found, key));
                    })
                    .switchIfEmpty(Mono.defer(() -> {
                        stale.invalidate(sha);
                        return Mono.error(incorrectKey(key));
                    }))
                    .onErrorResume(e -> !(e instanceof OpenAiException) && RedisStatus.isOutage(e),
                            e -> duringOutage(sha, key));
        });
    }

    /** A lookup that failed, shared by the callers that waited on it, never kept in the cache. */
    private record LookupFailure(Throwable cause) {
    }

    /** Forgets a key on this replica at once (the admin API calls it when it changes or deletes a key). */
    public void forget(String sha) {
        fresh.synchronous().invalidate(sha);
        stale.invalidate(sha);
    }

    /** True unless the last Redis command or probe failed. */
    public boolean redisUp() {
        return status.up();
    }

    public RedisOutagePolicy policy() {
        return policy;
    }

    private Mono<Caller> duringOutage(String sha, String key) {
        if (policy == RedisOutagePolicy.FAIL_CLOSED) {
            return Mono.error(unavailable());
        }
        TenantStore.Found known = stale.getIfPresent(sha);
        if (known == null) {
            return Mono.error(unavailable());
        }
        return Mono.just(check(known, key));
    }

    private Caller check(TenantStore.Found found, String key) {
        ApiKey k = found.key();
        if (k.disabled()) {
            throw unauthorized("The API key " + ApiKeys.masked(key) + " (" + k.keyId() + ") has been disabled. "
                    + "Ask your administrator for a new key.");
        }
        Instant now = clock.instant();
        if (k.expiredAt(now)) {
            throw unauthorized("The API key " + ApiKeys.masked(key) + " (" + k.keyId() + ") expired at "
                    + k.expiresAt() + ". Ask your administrator for a new key.");
        }
        Tenant t = found.tenant();
        if (t == null || t.disabled()) {
            throw new OpenAiException(403, new OpenAiError("The tenant '" + k.tenantId() + "' of this API key is "
                    + (t == null ? "gone" : "disabled") + "; contact your administrator.", "permission_error", null,
                    "tenant_disabled"), null);
        }
        return new Caller(t.id(), k.keyId(), k.name(), k.scopes(), t.weight(), t.limits(), k.limits());
    }

    /** The key in a {@code Bearer} header, else a 401. */
    private static String parse(String header) {
        if (header == null || header.isBlank()) {
            throw unauthorized("You didn't provide an API key. You need to provide your API key in an Authorization "
                    + "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
        }
        if (header.length() > MAX_HEADER_LENGTH) {
            throw unauthorized("The Authorization header is " + header.length() + " characters long, at most "
                    + MAX_HEADER_LENGTH + " are accepted. Send Authorization: Bearer YOUR_KEY.");
        }
        for (int i = 0; i < header.length(); i++) {
            char c = header.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                throw unauthorized("The Authorization header has a control character (U+"
                        + String.format("%04X", (int) c) + ") at index " + i + ". Send Authorization: Bearer YOUR_KEY.");
            }
        }
        if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw unauthorized("The Authorization header must use Bearer auth (i.e. Authorization: Bearer YOUR_KEY); "
                    + "no other scheme is accepted.");
        }
        String key = header.substring(BEARER.length()).strip();
        if (key.isEmpty()) {
            throw unauthorized("You didn't provide an API key. You need to provide your API key in an Authorization "
                    + "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
        }
        return key;
    }

    private static OpenAiException incorrectKey(String key) {
        return unauthorized("Incorrect API key provided: " + ApiKeys.masked(key) + ". Ask your administrator for a "
                + "valid key.");
    }

    private static OpenAiException unauthorized(String message) {
        return new OpenAiException(401, new OpenAiError(message, "invalid_request_error", null, "invalid_api_key"),
                null);
    }

    private OpenAiException unavailable() {
        return OpenAiException.unavailable("The gateway cannot verify API keys right now (its key store is "
                + "unreachable; policy " + policy + "). Please retry in " + OUTAGE_RETRY_AFTER.toSeconds() + "s.",
                OUTAGE_RETRY_AFTER);
    }
}
