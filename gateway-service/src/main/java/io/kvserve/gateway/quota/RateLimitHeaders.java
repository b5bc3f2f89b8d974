package io.kvserve.gateway.quota;

import java.time.Duration;
import org.springframework.http.HttpHeaders;

/**
 * OpenAI's rate-limit response headers, for the limits that are set (null fields are left out). When
 * both the tenant and the key limit a dimension, the one with the fewest remaining is reported.
 *
 * @param limitRequests     {@code x-ratelimit-limit-requests}: requests per minute allowed
 * @param remainingRequests {@code x-ratelimit-remaining-requests}: requests that could be made now
 * @param resetRequests     {@code x-ratelimit-reset-requests}: time until the request limit is fully refilled
 * @param limitTokens       {@code x-ratelimit-limit-tokens}: tokens per minute allowed
 * @param remainingTokens   {@code x-ratelimit-remaining-tokens}: tokens that could be reserved now
 * @param resetTokens       {@code x-ratelimit-reset-tokens}: time until the token limit is fully refilled
 */
public record RateLimitHeaders(Long limitRequests, Long remainingRequests, Duration resetRequests,
                               Long limitTokens, Long remainingTokens, Duration resetTokens) {

    /** No rate limit set: no header. */
    public static final RateLimitHeaders NONE = new RateLimitHeaders(null, null, null, null, null, null);

    /** Sets the headers on a response. */
    public void applyTo(HttpHeaders headers) {
        if (limitRequests != null) {
            headers.set("x-ratelimit-limit-requests", limitRequests.toString());
            headers.set("x-ratelimit-remaining-requests", remainingRequests.toString());
            headers.set("x-ratelimit-reset-requests", format(resetRequests));
        }
        if (limitTokens != null) {
            headers.set("x-ratelimit-limit-tokens", limitTokens.toString());
            headers.set("x-ratelimit-remaining-tokens", remainingTokens.toString());
            headers.set("x-ratelimit-reset-tokens", format(resetTokens));
        }
    }

    /**
     * A duration as OpenAI (and Go's {@code time.Duration}) writes it: {@code 120ms}, {@code 1s},
     * {@code 1.5s}, {@code 6m0s}, {@code 1h2m3s}; millisecond precision.
     */
    public static String format(Duration d) {
        long ms = Math.max(0, d.toMillis());
        if (ms < 1000) {
            return ms == 0 ? "0s" : ms + "ms";
        }
        long h = ms / 3_600_000;
        long m = ms / 60_000 % 60;
        long s = ms / 1000 % 60;
        long frac = ms % 1000;
        StringBuilder b = new StringBuilder();
        if (h > 0) {
            b.append(h).append('h');
        }
        if (h > 0 || m > 0) {
            b.append(m).append('m');
        }
        b.append(s);
        if (frac > 0) {
            String f = String.format("%03d", frac);
            int end = f.length();
            while (f.charAt(end - 1) == '0') {
                end--;
            }
            b.append('.').append(f, 0, end);
        }
        return b.append('s').toString();
    }
}
