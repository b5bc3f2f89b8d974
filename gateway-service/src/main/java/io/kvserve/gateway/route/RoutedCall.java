package io.kvserve.gateway.route;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.PlacementAnswer;
import io.kvserve.common.openai.Usage;
import tools.jackson.databind.JsonNode;

/**
 * What the gateway knows about one request while it is routed: who asked, where it went, when each
 * step happened ({@link System#nanoTime()}), and what came back. One per request; its frames are
 * seen by one subscriber in order, so the fields need no locks (they are read after the last frame).
 */
public final class RoutedCall {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RoutedCall.class);

    final String requestId;
    final String tenantId;
    final Api api;
    final boolean stream;
    /** Whether the client asked for the usage chunk; the gateway always asks the instance for it. */
    final boolean clientWantsUsage;
    final long arrivedNanos;
    long placementSentNanos;
    long placedNanos;
    /** When the first instance was called (later attempts are failover time, not gateway overhead). */
    long upstreamSentNanos;
    PlacementAnswer placement;
    String instanceId;
    int numAttempts;
    volatile boolean started;
    boolean sawDone;
    int numFrames;
    int numHanded;
    boolean failedMidStream;
    final java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();
    Usage usage;

    public RoutedCall(String requestId, String tenantId, Api api, boolean stream, boolean clientWantsUsage,
                      long arrivedNanos) {
        this.requestId = requestId;
        this.tenantId = tenantId;
        this.api = api;
        this.stream = stream;
        this.clientWantsUsage = clientWantsUsage;
        this.arrivedNanos = arrivedNanos;
    }

    boolean failedMidStream() {
        return failedMidStream;
    }

    public String requestId() {
        return requestId;
    }

    public boolean started() {
        return started;
    }

    /** The instance that served the request (the last one tried), or null if none was called. */
    public String instanceId() {
        return instanceId;
    }

    /** The usage the instance reported, or null when none came (a failed or cancelled request). */
    public Usage usage() {
        return usage;
    }

    /** The placement, or null before it came. */
    public PlacementAnswer placement() {
        return placement;
    }

    public String tenantId() {
        return tenantId;
    }

    public Api api() {
        return api;
    }

    public boolean stream() {
        return stream;
    }

    public String apiName() {
        return api == Api.CHAT ? "chat.completions" : "completions";
    }

    public void placementSent() {
        placementSentNanos = System.nanoTime();
    }

    public void placed(PlacementAnswer answer) {
        placedNanos = System.nanoTime();
        placement = answer;
    }

    void attempt(PlacementAnswer.Target target) {
        instanceId = target.id();
        if (numAttempts++ == 0) {
            upstreamSentNanos = System.nanoTime();
        }
    }

    /**
     * Picks the usage out of a usage chunk or a complete response. A body that is not what an
     * instance writes leaves the usage unknown (charged as {@link #chargedTokens()} says); it never
     * fails the request, whose bytes go to the client as they came.
     */
    void captureUsage(Frame frame) {
        try {
            JsonNode node = OpenAiJson.MAPPER.readTree(stream ? frame.json()
                    : new String(frame.bytes(), java.nio.charset.StandardCharsets.UTF_8)).path("usage");
            if (node.isObject()) {
                usage = Usage.of(node.path("prompt_tokens").asInt(0), node.path("completion_tokens").asInt(0),
                        node.path("prompt_tokens_details").path("cached_tokens").asInt(0));
            }
        } catch (RuntimeException e) {
            LOG.warn("request {}: no usage in the response of instance {}: {}", requestId, instanceId, e.toString());
        }
    }

    /**
     * Tokens to charge against the tenant's token quota: the reported usage; without one (the stream
     * broke or was cancelled) the prompt as tokenized plus one token per frame relayed, an upper
     * bound of what the instance generated; nothing when no instance began.
     */
    int chargedTokens() {
        if (usage != null) {
            return usage.totalTokens();
        }
        if (!started) {
            return 0;
        }
        int numPromptTokens = placement == null ? 0 : placement.promptTokenIds().length;
        return numPromptTokens + numFrames;
    }

    /** The gateway's own share of the time to the first frame (see {@link GatewayMetrics}). */
    long requestOverheadNanos(long firstFrameArrivedNanos, long firstFrameHandedNanos) {
        return (placementSentNanos - arrivedNanos) + (upstreamSentNanos - placedNanos)
                + (firstFrameHandedNanos - firstFrameArrivedNanos);
    }
}
