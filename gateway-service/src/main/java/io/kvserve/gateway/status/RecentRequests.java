package io.kvserve.gateway.status;

import io.kvserve.common.openai.PlacementAnswer;
import io.kvserve.common.openai.Usage;
import io.kvserve.gateway.route.CallAccounting;
import io.kvserve.gateway.route.RoutedCall;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The status page's memory of this gateway's traffic: the last {@code capacity} requests, newest first,
 * and per instance the prompt tokens relayed to it and how many of them its prefix cache served (the
 * hit rate as the gateway saw it, since this gateway started). Fed by {@link CallAccounting} at the end
 * of every request, on that request's thread: an append under a short lock, no I/O.
 */
public final class RecentRequests implements CallAccounting.Listener {

    /** A stream whose end never comes (a bug elsewhere) must not grow {@link #firstFrames} for ever. */
    private static final int MAX_PENDING_FIRST_FRAMES = 100_000;

    /** Prefix-cache totals of one instance since this gateway started. */
    public record InstanceTotals(long numRequests, long numPromptTokens, long numCachedTokens) {

        /** Cached / prompt tokens, or null before any prompt token was counted. */
        public Double hitRate() {
            return numPromptTokens == 0 ? null : (double) numCachedTokens / numPromptTokens;
        }
    }

    private static final class Counters {
        final LongAdder numRequests = new LongAdder();
        final LongAdder numPromptTokens = new LongAdder();
        final LongAdder numCachedTokens = new LongAdder();
    }

    private final int capacity;
    private final ArrayDeque<RecentRequest> recent;
    private final Map<String, Counters> instances = new ConcurrentHashMap<>();
    /** Time to the first frame of streams still open, by call (identity: request ids can repeat). */
    private final Map<RoutedCall, Long> firstFrames = new ConcurrentHashMap<>();

    public RecentRequests(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.recent = new ArrayDeque<>(capacity);
    }

    @Override
    public void firstFrame(RoutedCall call, long timeToFirstFrameNanos) {
        if (firstFrames.size() >= MAX_PENDING_FIRST_FRAMES) {
            firstFrames.clear();
        }
        firstFrames.put(call, timeToFirstFrameNanos);
    }

    @Override
    public void ended(RoutedCall call, String outcome, int numAttempts, long durationNanos) {
        Long ttft = firstFrames.remove(call);
        PlacementAnswer placement = call.placement();
        Usage usage = call.usage();
        add(new RecentRequest(System.currentTimeMillis(), call.requestId(), call.tenantId(), call.apiName(),
                placement == null ? null : placement.model(), call.instanceId(), numAttempts, outcome,
                placement == null ? null : placement.predictedHitTokens(),
                usage == null ? null : usage.promptTokens(),
                usage == null ? null : usage.promptTokensDetails().cachedTokens(),
                usage == null ? null : usage.completionTokens(),
                ttft == null ? null : ttft / 1e6, durationNanos / 1e6));
    }

    /** Records a request that ended (also how tests feed the page). */
    public void add(RecentRequest request) {
        if (request.instanceId() != null) {
            Counters c = instances.computeIfAbsent(request.instanceId(), id -> new Counters());
            c.numRequests.increment();
            if (request.promptTokens() != null) {
                c.numPromptTokens.add(request.promptTokens());
                c.numCachedTokens.add(request.cachedTokens() == null ? 0 : request.cachedTokens());
            }
        }
        synchronized (recent) {
            if (recent.size() == capacity) {
                recent.removeLast();
            }
            recent.addFirst(request);
        }
    }

    /** The last requests, newest first. */
    public List<RecentRequest> recent() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }

    /** The totals of an instance; zeros when this gateway relayed nothing to it. */
    public InstanceTotals totals(String instanceId) {
        Counters c = instances.get(instanceId);
        return c == null ? new InstanceTotals(0, 0, 0)
                : new InstanceTotals(c.numRequests.sum(), c.numPromptTokens.sum(), c.numCachedTokens.sum());
    }
}
