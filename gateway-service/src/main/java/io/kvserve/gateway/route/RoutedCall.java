package io.kvserve.gateway.route;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.PlacementAnswer;
import io.kvserve.common.openai.Usage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * What the gateway knows about one request while it is routed: who asked, where it went, when each
 * step happened ({@link System#nanoTime()}), and what came back. One per request; its frames come in
 * order, but the request can end on another thread (a client's cancel runs on its connection's event
 * loop, a timeout on a timer thread), so the fields are volatile and the end is claimed once.
 */
public final class RoutedCall {

    private static final Logger LOG = LoggerFactory.getLogger(RoutedCall.class);

    final String requestId;
    final String tenantId;
    final Api api;
    final boolean stream;
    /** Whether the client asked for the usage chunk; the gateway always asks the instance for it. */
    final boolean clientWantsUsage;
    final long arrivedNanos;
    // written by the request's pipeline, read at its end, which a cancel can run on another thread
    volatile long placementSentNanos;
    volatile long placedNanos;
    /** When the first instance was called (later attempts are failover time, not gateway overhead). */
    volatile long upstreamSentNanos;
    volatile PlacementAnswer placement;
    volatile String instanceId;
    volatile int numAttempts;
    volatile boolean started;
    /** Events that came from instances, over every attempt. */
    volatile int numUpstreamFrames;
    volatile boolean failedMidStream;
    /** The status answered when no instance began the request; 0 otherwise. */
    volatile int failureStatus;
    final AtomicBoolean streamOpened = new AtomicBoolean();
    final AtomicBoolean finished = new AtomicBoolean();
    volatile Usage usage;

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
            // a stream's usage chunk is an SSE event; a non-streamed response (assembled here) is plain JSON
            JsonNode node = (stream ? OpenAiJson.MAPPER.readTree(frame.json())
                    : OpenAiJson.MAPPER.readTree(frame.bytes())).path("usage");
            if (node.isObject()) {
                // counts as the instance reported them, clamped to what can be true
                int numPromptTokens = Math.max(0, node.path("prompt_tokens").asInt(0));
                usage = Usage.of(numPromptTokens, Math.max(0, node.path("completion_tokens").asInt(0)),
                        Math.clamp(node.path("prompt_tokens_details").path("cached_tokens").asInt(0), 0,
                                numPromptTokens));
            }
        } catch (RuntimeException e) {
            LOG.warn("request {}: no usage in the response of instance {}: {}", requestId, instanceId, e.toString());
        }
    }

    /**
     * Tokens to charge against the tenant's token quota: the reported usage; without one (the stream
     * broke, was cancelled, or every attempt failed) the prompt as tokenized plus one token per event
     * the instances sent, an upper bound of what they generated; nothing when no instance sent any.
     */
    int chargedTokens() {
        Usage reported = usage;
        if (reported != null) {
            return reported.totalTokens();
        }
        if (numUpstreamFrames == 0) {
            return 0;
        }
        PlacementAnswer answer = placement;
        return (answer == null ? 0 : answer.promptTokenIds().length) + numUpstreamFrames;
    }

    /** The gateway's own share of the time to the first frame (see {@link GatewayMetrics}). */
    long requestOverheadNanos(long firstFrameArrivedNanos, long firstFrameHandedNanos) {
        return (placementSentNanos - arrivedNanos) + (upstreamSentNanos - placedNanos)
                + (firstFrameHandedNanos - firstFrameArrivedNanos);
    }
}
