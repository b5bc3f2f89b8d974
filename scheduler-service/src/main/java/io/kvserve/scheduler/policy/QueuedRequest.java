package io.kvserve.scheduler.policy;

import java.util.Objects;

/**
 * A request waiting in an {@link AdmissionQueue}.
 *
 * @param tenantId        the tenant, whose DRR budget pays for it
 * @param enqueuedMs      when it entered the queue (the scheduler's clock, not the wall clock)
 * @param expectedHitRate cached fraction of its prompt on the instance it would go to, 0..1 (orders it
 *                        inside its tenant)
 * @param uncachedTokens  prompt tokens that would have to be prefilled; what its tenant is charged
 * @param payload         the caller's request
 * @param <T>             the payload's type
 */
public record QueuedRequest<T>(String tenantId, long enqueuedMs, double expectedHitRate, int uncachedTokens,
                               T payload) {

    public QueuedRequest {
        Objects.requireNonNull(tenantId, "tenantId");
        if (Double.isNaN(expectedHitRate)) {
            throw new IllegalArgumentException("expectedHitRate is NaN for tenant " + tenantId + "; pass 0 when unknown");
        }
        if (uncachedTokens < 0) {
            throw new IllegalArgumentException("uncachedTokens must be >= 0, was " + uncachedTokens);
        }
    }
}
