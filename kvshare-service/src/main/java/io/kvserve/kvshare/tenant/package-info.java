/**
 * kvshare's tenancy: {@link io.kvserve.kvshare.tenant.TenantSalts} (a secret salt per tenant, the
 * root of its block-hash chains), {@link io.kvserve.kvshare.tenant.PublishedPrefixes} (the only
 * prefixes shared across tenants), {@link io.kvserve.kvshare.tenant.ChainHasher} (a prompt's chain
 * as the engine computes it) and {@link io.kvserve.kvshare.tenant.TenantStats} (hit counters that
 * only the tenant itself and operators may read). Plain Java over a Lettuce connection, no Spring:
 * the service wires them, and the scheduler can use them as they are. Redis layout:
 * {@code docs/redis-schema.md}, "kvshare's tenants and published prefixes".
 */
package io.kvserve.kvshare.tenant;
