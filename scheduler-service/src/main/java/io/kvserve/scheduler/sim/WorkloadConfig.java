package io.kvserve.scheduler.sim;

/**
 * What every workload takes.
 *
 * @param numTenants      tenants (each with its own secret salt)
 * @param arrival         arrival process of requests (multi-turn: of the requests, sessions arriving at rate/mean turns)
 * @param durationSeconds requests arrive in [0, durationSeconds)
 * @param seed            the trace is a function of the seed
 * @param tenantSkew      Zipf exponent of tenant popularity (tenant t drawn with weight 1/(t+1)^skew); 0 = uniform
 */
public record WorkloadConfig(int numTenants, ArrivalProcess arrival, double durationSeconds, long seed, double tenantSkew) {

    public WorkloadConfig {
        if (numTenants < 1 || !(durationSeconds > 0) || tenantSkew < 0) {
            throw new IllegalArgumentException("need numTenants >= 1, durationSeconds > 0, tenantSkew >= 0; got "
                    + numTenants + ", " + durationSeconds + ", " + tenantSkew);
        }
    }
}
