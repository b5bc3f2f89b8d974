package io.kvserve.gateway.api;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * What the tenant-facing API accepts ({@code gateway.api.*}).
 *
 * @param maxRequestSize        largest request body; larger ones get 413 without being read further
 * @param requestReadTimeout    longest time to receive a whole request, headers and body; a slower
 *                              client (slowloris) gets 408 and its connection is closed
 * @param keepAliveTimeout      how long a kept-alive connection may wait for its next request head
 * @param defaultMaxTokensReserve completion tokens reserved against the token quota when a request gives
 *                              no {@code max_tokens}; reconciled with the real usage at the end
 * @param maxN                  most choices ({@code n}) per request
 */
@ConfigurationProperties("gateway.api")
public record ApiProperties(@DefaultValue("4MB") DataSize maxRequestSize,
                            @DefaultValue("10s") Duration requestReadTimeout,
                            @DefaultValue("60s") Duration keepAliveTimeout,
                            @DefaultValue("256") int defaultMaxTokensReserve,
                            @DefaultValue("8") int maxN) {

    public ApiProperties {
        if (maxRequestSize.toBytes() < 1024 || maxRequestSize.toBytes() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("gateway.api.max-request-size=" + maxRequestSize
                    + " must be between 1KB and 2GB");
        }
        if (requestReadTimeout.isNegative() || requestReadTimeout.isZero()) {
            throw new IllegalArgumentException("gateway.api.request-read-timeout=" + requestReadTimeout
                    + " must be positive");
        }
        if (keepAliveTimeout.isNegative() || keepAliveTimeout.isZero()) {
            throw new IllegalArgumentException("gateway.api.keep-alive-timeout=" + keepAliveTimeout
                    + " must be positive");
        }
        if (defaultMaxTokensReserve < 1) {
            throw new IllegalArgumentException("gateway.api.default-max-tokens-reserve=" + defaultMaxTokensReserve
                    + " must be >= 1");
        }
        if (maxN < 1) {
            throw new IllegalArgumentException("gateway.api.max-n=" + maxN + " must be >= 1");
        }
    }
}
