package io.kvserve.gateway.quota;

import io.kvserve.common.openai.OpenAiException;

/** TEMPORARY stand-in until the tenancy branch lands. */
public sealed interface Admission {
    record Admitted(Lease lease, RateLimitHeaders headers) implements Admission {
    }

    record Rejected(OpenAiException error, RateLimitHeaders headers) implements Admission {
    }
}
