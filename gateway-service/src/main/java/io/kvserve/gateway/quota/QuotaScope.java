package io.kvserve.gateway.quota;

import io.kvserve.gateway.tenant.Caller;
import io.kvserve.gateway.tenant.Limits;
import java.util.ArrayList;
import java.util.List;

/**
 * One set of limits a request is checked against: its tenant's, or its key's own.
 *
 * @param label  how messages name it ({@code tenant acme}, {@code key key_x of tenant acme})
 * @param base   the Redis key prefix of its counters ({@code <p>q:t:<tenant>:}, {@code <p>q:k:<key id>:})
 * @param limits its limits (at least one set)
 */
record QuotaScope(String label, String base, Limits limits) {

    /** The scopes that apply to {@code caller}: the tenant's, then the key's, each only if it sets a limit. */
    static List<QuotaScope> of(Caller caller, String prefix) {
        List<QuotaScope> scopes = new ArrayList<>(2);
        if (!caller.tenantLimits().isEmpty()) {
            scopes.add(new QuotaScope("tenant " + caller.tenantId(), prefix + "q:t:" + caller.tenantId() + ":",
                    caller.tenantLimits()));
        }
        if (!caller.keyLimits().isEmpty()) {
            scopes.add(new QuotaScope("key " + caller.keyId() + " of tenant " + caller.tenantId(),
                    prefix + "q:k:" + caller.keyId() + ":", caller.keyLimits()));
        }
        return scopes;
    }

    static long orZero(Long limit) {
        return limit == null ? 0 : limit;
    }
}
