package io.kvserve.inference.model;

import java.util.Locale;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code model} in the readiness group: UP when serving, OUT_OF_SERVICE while loading or draining
 * (a load balancer stops sending, the process stays alive), DOWN when loading failed.
 */
@Component("model")
public class ModelHealthIndicator implements HealthIndicator {

    private final ModelHost host;

    public ModelHealthIndicator(ModelHost host) {
        this.host = host;
    }

    @Override
    public Health health() {
        ModelState state = host.state();
        Health.Builder health = switch (state) {
            case READY -> Health.up();
            case LOADING, DRAINING, STOPPED -> Health.outOfService();
            case FAILED -> Health.down();
        };
        health.withDetail("state", state.name().toLowerCase(Locale.ROOT));
        host.served().ifPresent(m -> health.withDetail("model", m.info().name()));
        host.failure().ifPresent(e -> health.withDetail("error", String.valueOf(e.getMessage())));
        return health.build();
    }
}
