package io.kvserve.gateway.tenant;

import java.util.Set;

/** TEMPORARY stand-in until the tenancy branch lands. */
public record Caller(String tenantId, String keyId, String keyName, Set<Scope> scopes, int tenantWeight) {
    public boolean allows(Scope scope) {
        return scopes.contains(scope);
    }
}
