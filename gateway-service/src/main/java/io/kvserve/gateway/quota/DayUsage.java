package io.kvserve.gateway.quota;

import java.time.LocalDate;
import java.util.Map;

/**
 * A tenant's usage on one UTC day, as released leases recorded it.
 *
 * @param date             the UTC day
 * @param requests         requests released that day
 * @param promptTokens     prompt tokens (when the caller reported a breakdown)
 * @param completionTokens completion tokens (idem)
 * @param cachedTokens     prompt tokens served from the prefix cache (idem)
 * @param totalTokens      tokens charged
 */
public record DayUsage(LocalDate date, long requests, long promptTokens, long completionTokens, long cachedTokens,
                       long totalTokens) {

    static DayUsage of(LocalDate date, Map<String, String> hash) {
        return new DayUsage(date, get(hash, "requests"), get(hash, "prompt_tokens"), get(hash, "completion_tokens"),
                get(hash, "cached_tokens"), get(hash, "total_tokens"));
    }

    private static long get(Map<String, String> hash, String field) {
        String v = hash.get(field);
        return v == null ? 0 : Long.parseLong(v);
    }
}
