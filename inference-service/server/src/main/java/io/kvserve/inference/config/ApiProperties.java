package io.kvserve.inference.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Limits of the OpenAI API, under {@code kvserve.api.*}.
 *
 * @param maxRequestSize largest request body; a larger one gets HTTP 413
 * @param maxN           most choices ({@code n}) per request
 * @param retryAfterSeconds the {@code Retry-After} sent with 429 (queue full) and 503 (loading)
 */
@ConfigurationProperties("kvserve.api")
public record ApiProperties(
        @DefaultValue("4MB") DataSize maxRequestSize,
        @DefaultValue("16") int maxN,
        @DefaultValue("1") int retryAfterSeconds) {

    public ApiProperties {
        if (maxRequestSize.toBytes() < 1024) {
            throw new IllegalArgumentException("kvserve.api.max-request-size must be at least 1KB, got " + maxRequestSize);
        }
        if (maxN < 1) {
            throw new IllegalArgumentException("kvserve.api.max-n must be >= 1, got " + maxN);
        }
    }
}
