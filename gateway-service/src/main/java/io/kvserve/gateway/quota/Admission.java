package io.kvserve.gateway.quota;

import io.kvserve.common.openai.OpenAiException;
import java.util.Objects;

/** The answer of {@link QuotaService#admit}: go ahead with a lease, or an error to answer with. */
public sealed interface Admission {

    /** The headers to put on the response either way. */
    RateLimitHeaders headers();

    /**
     * Admitted: run the request, then {@link Lease#release} it exactly once (further calls are no-ops).
     *
     * @param lease   the reservation to reconcile with the real usage
     * @param headers OpenAI rate-limit headers after this request
     */
    record Admitted(Lease lease, RateLimitHeaders headers) implements Admission {
        public Admitted {
            Objects.requireNonNull(lease, "lease");
            Objects.requireNonNull(headers, "headers");
        }
    }

    /**
     * Refused: answer {@code error} (429 over a limit, with {@code Retry-After} unless the request can never
     * fit; 503 when Redis is down under {@code FAIL_CLOSED}); nothing was charged.
     *
     * @param error   the error to answer with
     * @param headers OpenAI rate-limit headers (remaining without this request)
     */
    record Rejected(OpenAiException error, RateLimitHeaders headers) implements Admission {
        public Rejected {
            Objects.requireNonNull(error, "error");
            Objects.requireNonNull(headers, "headers");
        }
    }
}
