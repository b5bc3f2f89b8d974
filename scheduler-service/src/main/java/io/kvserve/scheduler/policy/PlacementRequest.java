package io.kvserve.scheduler.policy;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a policy knows of one request.
 *
 * @param tenantId        the tenant
 * @param numPromptTokens prompt tokens
 * @param maxTokens       most tokens to generate
 * @param cachedTokens    per instance id, the prompt tokens its prefix cache already holds (from
 *                        kvshare); empty when kvshare or Redis is unreachable (policies then place by
 *                        load alone)
 */
public record PlacementRequest(String tenantId, int numPromptTokens, int maxTokens,
                               Optional<Map<String, Integer>> cachedTokens) {

    public PlacementRequest {
        Objects.requireNonNull(tenantId, "tenantId");
        cachedTokens = cachedTokens.map(Map::copyOf);
    }

    /** Cached prompt tokens on {@code instanceId}; 0 when unknown. */
    public int cachedOn(String instanceId) {
        return cachedTokens.map(m -> m.getOrDefault(instanceId, 0)).orElse(0);
    }
}
