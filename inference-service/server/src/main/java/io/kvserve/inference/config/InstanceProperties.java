package io.kvserve.inference.config;

import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * This instance as the platform sees it, under {@code kvserve.instance.*}.
 *
 * @param id                id in the registry and in KV events; empty generates {@code <host>-<port>-<random>}
 * @param advertisedUrl     the base URL other services reach this instance at; empty takes
 *                          {@code http://<host>:<port>}
 * @param heartbeatInterval how often the registration is refreshed with load figures
 * @param registrationTtl   how long a registration lives without a heartbeat (a dead instance drops out)
 * @param drainTimeout      on shutdown, how long in-flight requests may run before they are aborted
 * @param internalToken     bearer token the internal generate endpoint requires; empty requires none
 *                          (keep the instance on a private network then)
 */
@ConfigurationProperties("kvserve.instance")
public record InstanceProperties(
        @DefaultValue("") String id,
        @DefaultValue("") String advertisedUrl,
        @DefaultValue("2s") Duration heartbeatInterval,
        @DefaultValue("10s") Duration registrationTtl,
        @DefaultValue("30s") Duration drainTimeout,
        @DefaultValue("") String internalToken) {

    public InstanceProperties {
        if (!advertisedUrl.isEmpty()) {
            URI uri = URI.create(advertisedUrl);
            if (uri.getScheme() == null || uri.getHost() == null) {
                throw new IllegalArgumentException("kvserve.instance.advertised-url=" + advertisedUrl
                        + " is not an absolute URL like http://10.0.0.7:8000");
            }
        }
        if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
            throw new IllegalArgumentException("kvserve.instance.heartbeat-interval must be positive, got "
                    + heartbeatInterval);
        }
        if (registrationTtl.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("kvserve.instance.registration-ttl (" + registrationTtl
                    + ") must be at least twice heartbeat-interval (" + heartbeatInterval
                    + ") or one late heartbeat drops the instance");
        }
        if (drainTimeout.isNegative()) {
            throw new IllegalArgumentException("kvserve.instance.drain-timeout must be >= 0, got " + drainTimeout);
        }
    }
}
