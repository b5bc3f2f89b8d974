package io.kvserve.gateway.tenant;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The quota limits of a tenant or of one of its keys; a null field is unlimited.
 *
 * @param requestsPerMinute   requests admitted per minute (GCRA: bursts up to this, refilled smoothly)
 * @param tokensPerMinute     tokens reserved per minute (GCRA, as above)
 * @param maxConcurrentStreams requests in flight at once (admitted and not yet released)
 * @param dailyTokenBudget    tokens per UTC day
 */
public record Limits(Long requestsPerMinute, Long tokensPerMinute, Long maxConcurrentStreams, Long dailyTokenBudget) {

    /** No limit at all. */
    public static final Limits NONE = new Limits(null, null, null, null);

    /** Wire (and Redis hash field) names, in the order of the record's fields. */
    public static final String REQUESTS_PER_MINUTE = "requests_per_minute";
    public static final String TOKENS_PER_MINUTE = "tokens_per_minute";
    public static final String MAX_CONCURRENT_STREAMS = "max_concurrent_streams";
    public static final String DAILY_TOKEN_BUDGET = "daily_token_budget";

    public Limits {
        check(REQUESTS_PER_MINUTE, requestsPerMinute);
        check(TOKENS_PER_MINUTE, tokensPerMinute);
        check(MAX_CONCURRENT_STREAMS, maxConcurrentStreams);
        check(DAILY_TOKEN_BUDGET, dailyTokenBudget);
    }

    private static void check(String name, Long value) {
        if (value != null && value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, or null for unlimited (to stop a tenant or key, "
                    + "set disabled=true), got " + value);
        }
    }

    /** True when no field is set. */
    public boolean isEmpty() {
        return requestsPerMinute == null && tokensPerMinute == null && maxConcurrentStreams == null
                && dailyTokenBudget == null;
    }

    /** These limits with the one named by its wire name replaced (null = unlimited). */
    public Limits with(String wireName, Long value) {
        return switch (wireName) {
            case REQUESTS_PER_MINUTE -> new Limits(value, tokensPerMinute, maxConcurrentStreams, dailyTokenBudget);
            case TOKENS_PER_MINUTE -> new Limits(requestsPerMinute, value, maxConcurrentStreams, dailyTokenBudget);
            case MAX_CONCURRENT_STREAMS -> new Limits(requestsPerMinute, tokensPerMinute, value, dailyTokenBudget);
            case DAILY_TOKEN_BUDGET -> new Limits(requestsPerMinute, tokensPerMinute, maxConcurrentStreams, value);
            default -> throw new IllegalArgumentException("unknown limit '" + wireName + "'; allowed: "
                    + String.join(", ", wireNames()));
        };
    }

    /** The four wire names. */
    public static String[] wireNames() {
        return new String[] {REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE, MAX_CONCURRENT_STREAMS, DAILY_TOKEN_BUDGET};
    }

    /** The set fields by wire name (for JSON and the Redis hash); unset ones are absent. */
    public Map<String, Long> toMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        put(m, REQUESTS_PER_MINUTE, requestsPerMinute);
        put(m, TOKENS_PER_MINUTE, tokensPerMinute);
        put(m, MAX_CONCURRENT_STREAMS, maxConcurrentStreams);
        put(m, DAILY_TOKEN_BUDGET, dailyTokenBudget);
        return m;
    }

    /** The limits held in a Redis hash (fields as {@link #toMap()} writes them). */
    static Limits fromHash(Map<String, String> hash) {
        return new Limits(parse(hash.get(REQUESTS_PER_MINUTE)), parse(hash.get(TOKENS_PER_MINUTE)),
                parse(hash.get(MAX_CONCURRENT_STREAMS)), parse(hash.get(DAILY_TOKEN_BUDGET)));
    }

    private static void put(Map<String, Long> m, String name, Long value) {
        if (value != null) {
            m.put(name, value);
        }
    }

    private static Long parse(String s) {
        return s == null || s.isEmpty() ? null : Long.valueOf(s);
    }
}
