package io.kvserve.gateway.quota;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The admit and release scripts of {@link QuotaService}, computed in this replica's memory: what
 * {@code CACHED_KEYS} enforces while Redis is unreachable. Same algorithm and numbers as the Lua (read
 * them side by side), per replica: N replicas admit up to N times each limit during an outage. One lock;
 * a degraded mode needs no more.
 */
final class LocalQuota {

    private static final double PERIOD_MS = 60_000;

    private final Map<String, Double> tats = new HashMap<>();
    private final Map<String, Map<String, Long>> streams = new HashMap<>(); // base -> lease id -> expiry ms
    private final Map<String, Long> daily = new HashMap<>();

    synchronized Decision admit(List<QuotaScope> scopes, long nowMs, String leaseId, long expiryMs, long cost,
                                String day, long msToMidnight) {
        List<double[]> gcra = new ArrayList<>(); // {kind, scope, limit, interval, tat, newTat}
        List<String> gcraKeys = new ArrayList<>();
        List<String> streamKeys = new ArrayList<>();
        List<String> dailyKeys = new ArrayList<>();
        long[] reject = null;
        for (int s = 0; s < scopes.size(); s++) {
            QuotaScope scope = scopes.get(s);
            long[] perMinute = {QuotaScope.orZero(scope.limits().requestsPerMinute()),
                    QuotaScope.orZero(scope.limits().tokensPerMinute())};
            for (int kind = 1; kind <= 2; kind++) {
                long limit = perMinute[kind - 1];
                if (limit > 0) {
                    String key = scope.base() + (kind == 1 ? "rpm" : "tpm");
                    double interval = PERIOD_MS / limit;
                    double tat = Math.max(tats.getOrDefault(key, (double) nowMs), nowMs);
                    double newTat = tat + (kind == 1 ? 1 : cost) * interval;
                    gcra.add(new double[] {kind, s, limit, interval, tat, newTat});
                    gcraKeys.add(key);
                    if (reject == null && newTat - nowMs > PERIOD_MS + QuotaService.TOLERANCE_MS) {
                        reject = new long[] {kind, s + 1, limit, (long) Math.ceil((tat - nowMs - QuotaService.TOLERANCE_MS) / interval),
                                (long) Math.ceil(newTat - nowMs - PERIOD_MS)};
                    }
                }
            }
            long maxStreams = QuotaScope.orZero(scope.limits().maxConcurrentStreams());
            if (maxStreams > 0) {
                String key = scope.base() + "streams";
                Map<String, Long> leases = streams.computeIfAbsent(key, k -> new HashMap<>());
                leases.values().removeIf(expiry -> expiry <= nowMs);
                streamKeys.add(key);
                if (reject == null && leases.size() >= maxStreams) {
                    reject = new long[] {3, s + 1, maxStreams, leases.size(), 1000};
                }
            }
            long budget = QuotaScope.orZero(scope.limits().dailyTokenBudget());
            if (budget > 0) {
                String key = scope.base() + "daily:" + day;
                long used = daily.getOrDefault(key, 0L);
                dailyKeys.add(key);
                if (reject == null && used + cost > budget) {
                    reject = new long[] {4, s + 1, budget, used, msToMidnight};
                }
            }
        }
        long[] hdr = {-1, -1, -1, -1, -1, -1};
        for (double[] c : gcra) {
            double t = reject != null ? c[4] : c[5];
            int off = c[0] == 1 ? 0 : 3;
            long remaining = Math.max(0, (long) Math.floor((PERIOD_MS + QuotaService.TOLERANCE_MS - (t - nowMs)) / c[3]));
            if (hdr[off] < 0 || remaining < hdr[off + 1]) {
                hdr[off] = (long) c[2];
                hdr[off + 1] = remaining;
                hdr[off + 2] = (long) Math.ceil(t - nowMs);
            }
        }
        if (reject != null) {
            return Decision.of(List.of(0L, reject[0], reject[1], reject[2], reject[3], reject[4],
                    hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5]));
        }
        for (int i = 0; i < gcra.size(); i++) {
            tats.put(gcraKeys.get(i), gcra.get(i)[5]);
        }
        for (String key : streamKeys) {
            streams.get(key).put(leaseId, expiryMs);
        }
        for (String key : dailyKeys) {
            daily.merge(key, cost, Long::sum);
        }
        return Decision.of(List.of(1L, 0L, 0L, 0L, 0L, 0L, hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5]));
    }

    /** Forgets every counter: Redis is back and holds the truth again. */
    synchronized void clear() {
        tats.clear();
        streams.clear();
        daily.clear();
    }

    synchronized void release(List<QuotaScope> scopes, long nowMs, String leaseId, long delta, String admitDay) {
        for (QuotaScope scope : scopes) {
            if (scope.limits().maxConcurrentStreams() != null) {
                Map<String, Long> leases = streams.get(scope.base() + "streams");
                if (leases != null) {
                    leases.remove(leaseId);
                }
            }
            if (delta == 0) {
                continue;
            }
            long tpm = QuotaScope.orZero(scope.limits().tokensPerMinute());
            if (tpm > 0) {
                String key = scope.base() + "tpm";
                double tat = Math.max(tats.getOrDefault(key, (double) nowMs), nowMs) + delta * (PERIOD_MS / tpm);
                if (tat <= nowMs) {
                    tats.remove(key);
                } else {
                    tats.put(key, tat);
                }
            }
            if (scope.limits().dailyTokenBudget() != null) {
                daily.merge(scope.base() + "daily:" + admitDay, delta, (a, b) -> Math.max(0, a + b));
            }
        }
    }
}
