package io.kvserve.gateway.tenant;

import io.kvserve.kvshare.tenant.TenantIds;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A tenant as the admin API and Redis hold it.
 *
 * @param id        {@link TenantIds} rules: 1..128 characters of {@code [A-Za-z0-9._:-]}
 * @param name      display name (defaults to the id)
 * @param weight    share in fair scheduling, >= 1
 * @param disabled  a disabled tenant's keys are refused (403)
 * @param limits    the tenant's quota limits (all of its keys together)
 * @param createdAt when it was created
 */
public record Tenant(String id, String name, int weight, boolean disabled, Limits limits, Instant createdAt) {

    /** The longest display name, in characters. */
    public static final int MAX_NAME_LENGTH = 256;

    public Tenant {
        TenantIds.requireValid(id);
        Objects.requireNonNull(name, "name");
        if (name.isBlank() || name.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("name must be 1.." + MAX_NAME_LENGTH + " characters, not blank, got "
                    + name.length());
        }
        if (weight < 1) {
            throw new IllegalArgumentException("weight must be >= 1 (a share in fair scheduling), got " + weight);
        }
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    Map<String, String> toHash() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("id", id);
        h.put("name", name);
        h.put("weight", Integer.toString(weight));
        h.put("disabled", disabled ? "1" : "0");
        h.put("created_ms", Long.toString(createdAt.toEpochMilli()));
        limits.toMap().forEach((k, v) -> h.put(k, v.toString()));
        return h;
    }

    static Tenant fromHash(Map<String, String> h) {
        return new Tenant(h.get("id"), h.get("name"), Integer.parseInt(h.get("weight")), "1".equals(h.get("disabled")),
                Limits.fromHash(h), Instant.ofEpochMilli(Long.parseLong(h.get("created_ms"))));
    }
}
