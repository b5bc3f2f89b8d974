package io.kvserve.gateway.tenant;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import java.util.Objects;
import java.util.Set;

/**
 * Who is calling, as {@link KeyAuthenticator} establishes it: what the routing and quota code needs.
 *
 * @param tenantId     the key's tenant
 * @param keyId        the key's public id ({@code key_...}), safe to log
 * @param keyName      the operator's label for the key
 * @param scopes       what the key may call
 * @param tenantWeight the tenant's share in fair scheduling, >= 1
 * @param tenantLimits the tenant's limits (all its keys together)
 * @param keyLimits    the key's own limits; unset fields defer to the tenant's
 */
public record Caller(String tenantId, String keyId, String keyName, Set<Scope> scopes, int tenantWeight,
                     Limits tenantLimits, Limits keyLimits) {

    public Caller {
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(keyId, "keyId");
        scopes = Set.copyOf(scopes);
        Objects.requireNonNull(tenantLimits, "tenantLimits");
        Objects.requireNonNull(keyLimits, "keyLimits");
    }

    /** True when the key may call what {@code scope} names. */
    public boolean allows(Scope scope) {
        return scopes.contains(scope);
    }

    /**
     * Nothing when the key has {@code scope}, else a 403 ({@code permission_error},
     * {@code insufficient_scope}) to answer with.
     */
    public void requireScope(Scope scope) {
        if (!allows(scope)) {
            throw new OpenAiException(403, new OpenAiError("The API key " + keyId + " is not allowed to call "
                    + scope.wireName() + "; its scopes are " + Scope.join(scopes)
                    + ". Ask your administrator for a key with this scope.", "permission_error", null,
                    "insufficient_scope"), null);
        }
    }
}
