package io.kvserve.gateway.tenant;

import io.kvserve.kvshare.tenant.TenantIds;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An API key's record: everything but the secret, which is stored only as its SHA-256.
 *
 * @param keyId     public id ({@code key_...}), for admin URLs and logs
 * @param tenantId  the owning tenant
 * @param name      the operator's label for the key
 * @param scopes    what the key may call (never empty)
 * @param expiresAt when the key stops working; null for never
 * @param disabled  a disabled key is refused (401)
 * @param limits    the key's own limits, applied on top of the tenant's; unset fields defer to the tenant
 * @param hint      the first {@value ApiKeys#HINT_LENGTH} characters of the key, to recognise it
 * @param createdAt when it was created
 */
public record ApiKey(String keyId, String tenantId, String name, Set<Scope> scopes, Instant expiresAt,
                     boolean disabled, Limits limits, String hint, Instant createdAt) {

    public ApiKey {
        Objects.requireNonNull(keyId, "keyId");
        TenantIds.requireValid(tenantId);
        Objects.requireNonNull(name, "name");
        if (name.isBlank() || name.length() > Tenant.MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("name must be 1.." + Tenant.MAX_NAME_LENGTH
                    + " characters, not blank, got " + name.length());
        }
        if (scopes == null || scopes.isEmpty()) {
            throw new IllegalArgumentException("scopes must name at least one of " + Scope.allWireNames()
                    + " (omit it for all)");
        }
        scopes = Set.copyOf(EnumSet.copyOf(scopes));
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(hint, "hint");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** True when the key has expired at {@code now}. */
    public boolean expiredAt(Instant now) {
        return expiresAt != null && !now.isBefore(expiresAt);
    }

    Map<String, String> toHash() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("key_id", keyId);
        h.put("tenant_id", tenantId);
        h.put("name", name);
        h.put("scopes", Scope.join(scopes));
        if (expiresAt != null) {
            h.put("expires_ms", Long.toString(expiresAt.toEpochMilli()));
        }
        h.put("disabled", disabled ? "1" : "0");
        h.put("hint", hint);
        h.put("created_ms", Long.toString(createdAt.toEpochMilli()));
        limits.toMap().forEach((k, v) -> h.put(k, v.toString()));
        return h;
    }

    static ApiKey fromHash(Map<String, String> h) {
        String expires = h.get("expires_ms");
        return new ApiKey(h.get("key_id"), h.get("tenant_id"), h.get("name"), Scope.split(h.get("scopes")),
                expires == null ? null : Instant.ofEpochMilli(Long.parseLong(expires)), "1".equals(h.get("disabled")),
                Limits.fromHash(h), h.get("hint"), Instant.ofEpochMilli(Long.parseLong(h.get("created_ms"))));
    }
}
