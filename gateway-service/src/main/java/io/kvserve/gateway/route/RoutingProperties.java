package io.kvserve.gateway.route;

import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How the gateway reaches the scheduler and the inference instances ({@code gateway.routing.*}).
 *
 * @param schedulerUrl              base URL of the scheduler ({@code POST /v1/place}, {@code GET /v1/models})
 * @param placementTimeout          longest wait for a placement; the scheduler may hold a request in its
 *                                  admission queue while every instance is saturated
 * @param modelsRefresh             how often the list of placeable models is fetched from the scheduler
 * @param internalToken             bearer token for the instances' internal generate endpoint
 *                                  ({@code kvserve.instance.internal-token} there); empty sends none
 * @param firstTokenTimeout         longest wait for an instance's first event; past it the next
 *                                  fallback instance is tried
 * @param interTokenTimeout         longest gap between two events once they have begun; past it a
 *                                  stream ends with an error event (a non-streamed request moves on
 *                                  to the next instance)
 * @param connectTimeout            TCP connect timeout to the scheduler and the instances
 * @param maxConnectionsPerInstance HTTP/1.1 connections to one instance (one per open stream)
 */
@ConfigurationProperties("gateway.routing")
public record RoutingProperties(@DefaultValue("http://127.0.0.1:8200") URI schedulerUrl,
                                @DefaultValue("30s") Duration placementTimeout,
                                @DefaultValue("5s") Duration modelsRefresh,
                                @DefaultValue("") String internalToken,
                                @DefaultValue("60s") Duration firstTokenTimeout,
                                @DefaultValue("30s") Duration interTokenTimeout,
                                @DefaultValue("2s") Duration connectTimeout,
                                @DefaultValue("4096") int maxConnectionsPerInstance) {

    public RoutingProperties {
        requirePositive("placement-timeout", placementTimeout);
        requirePositive("models-refresh", modelsRefresh);
        requirePositive("first-token-timeout", firstTokenTimeout);
        requirePositive("inter-token-timeout", interTokenTimeout);
        requirePositive("connect-timeout", connectTimeout);
        if (maxConnectionsPerInstance < 1) {
            throw new IllegalArgumentException("gateway.routing.max-connections-per-instance=" + maxConnectionsPerInstance
                    + " must be >= 1: every open stream holds one HTTP/1.1 connection to its instance");
        }
        String scheme = schedulerUrl.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            throw new IllegalArgumentException("gateway.routing.scheduler-url=" + schedulerUrl
                    + " must be an http(s) URL, e.g. http://127.0.0.1:8200");
        }
    }

    private static void requirePositive(String name, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("gateway.routing." + name + "=" + value + " must be positive");
        }
    }
}
