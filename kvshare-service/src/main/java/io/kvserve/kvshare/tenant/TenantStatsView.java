package io.kvserve.kvshare.tenant;

/**
 * One tenant's prefix-cache hit counters. Only for operators and for that tenant itself (the API
 * layer checks who asks): another tenant's hit rate is a side channel on its traffic.
 *
 * @param tenantId    the tenant
 * @param queries     hit queries recorded
 * @param queryBlocks full blocks asked about, summed over queries
 * @param hitBlocks   blocks found cached on the best instance of each query, summed over queries
 */
public record TenantStatsView(String tenantId, long queries, long queryBlocks, long hitBlocks) {

    /** {@code hitBlocks / queryBlocks}, 0 without queries. */
    public double hitRate() {
        return queryBlocks == 0 ? 0.0 : (double) hitBlocks / queryBlocks;
    }
}
