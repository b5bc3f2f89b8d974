package io.kvserve.gateway.quota;

import org.springframework.http.HttpHeaders;

/** TEMPORARY stand-in until the tenancy branch lands. */
public class RateLimitHeaders {
    public void applyTo(HttpHeaders headers) {
    }
}
