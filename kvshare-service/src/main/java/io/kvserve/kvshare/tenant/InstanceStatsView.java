package io.kvserve.kvshare.tenant;

/**
 * One inference instance's prefix-cache hit counters, over all tenants. For operators only.
 *
 * @param instanceId the instance (as in {@code kvserve:instance:<id>})
 * @param queries    hit queries that asked about this instance
 * @param hitBlocks  blocks found cached on it, summed over those queries
 */
public record InstanceStatsView(String instanceId, long queries, long hitBlocks) {
}
