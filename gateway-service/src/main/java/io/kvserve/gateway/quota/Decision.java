package io.kvserve.gateway.quota;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of one admit, from the Redis script or the local fallback: the same twelve numbers.
 *
 * @param admitted   true when every limit admitted and all were charged
 * @param kind       the rejecting limit (null when admitted)
 * @param scopeIndex the rejecting scope's index in the request's scope list
 * @param limit      the rejecting limit's value
 * @param used       how much of it is used (requests or tokens in the window, streams in flight, tokens today)
 * @param retryMs    earliest time the rejecting limit could admit this request, ms
 * @param headers    the rate-limit headers
 */
record Decision(boolean admitted, LimitKind kind, int scopeIndex, long limit, long used, long retryMs,
                RateLimitHeaders headers) {

    /** Parses {@code {admitted, kind, scope, limit, used, retryMs, rl, rr, rreset, tl, tr, treset}}; -1 = unset. */
    static Decision of(List<Long> v) {
        boolean admitted = v.get(0) == 1L;
        return new Decision(admitted, admitted ? null : LimitKind.ofScriptIndex(v.get(1)),
                (int) (v.get(2) - 1), v.get(3), v.get(4), v.get(5),
                headers(v.get(6), v.get(7), v.get(8), v.get(9), v.get(10), v.get(11)));
    }

    static RateLimitHeaders headers(long rl, long rr, long rreset, long tl, long tr, long treset) {
        if (rl < 0 && tl < 0) {
            return RateLimitHeaders.NONE;
        }
        return new RateLimitHeaders(rl < 0 ? null : rl, rl < 0 ? null : rr, rl < 0 ? null : Duration.ofMillis(rreset),
                tl < 0 ? null : tl, tl < 0 ? null : tr, tl < 0 ? null : Duration.ofMillis(treset));
    }
}
