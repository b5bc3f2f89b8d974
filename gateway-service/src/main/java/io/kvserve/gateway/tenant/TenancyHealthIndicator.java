package io.kvserve.gateway.tenant;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of the tenancy part (bean {@code tenancy}): always UP, since the outage policy keeps the gateway
 * serving (or deliberately refusing) while Redis is away; the detail says which.
 */
public final class TenancyHealthIndicator implements HealthIndicator {

    private final RedisStatus status;
    private final RedisOutagePolicy policy;

    public TenancyHealthIndicator(RedisStatus status, RedisOutagePolicy policy) {
        this.status = status;
        this.policy = policy;
    }

    @Override
    public Health health() {
        return Health.up()
                .withDetail("redis", status.up() ? "up" : "unreachable (policy " + policy + " in force)")
                .withDetail("redis_outage_policy", policy.name())
                .build();
    }
}
