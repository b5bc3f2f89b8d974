package io.kvserve.gateway.quota;

import reactor.core.publisher.Mono;

/** TEMPORARY stand-in until the tenancy branch lands. */
public interface Lease {
    Mono<Void> release(int actualTokens);
}
