package io.kvserve.cli.benchserving;

import java.util.Arrays;

/**
 * Follows one streaming response: the arrival time of every chunk with text, the usage chunk, an
 * error event, {@code [DONE]}. Fed by one thread at a time (the response's body subscriber).
 */
final class StreamRecorder {

    private long[] contentNanos = new long[64];
    private int numContentChunks;
    private StreamEvent.Usage usage;
    private StreamEvent.Error error;
    private String malformed;
    private boolean done;

    /** One SSE event's data, arrived at {@code nanos} ({@link System#nanoTime()}). */
    void onData(String data, long nanos) {
        for (StreamEvent event : StreamDecoder.decode(data)) {
            switch (event) {
                case StreamEvent.Content content -> {
                    if (!content.text().isEmpty()) {
                        if (numContentChunks == contentNanos.length) {
                            contentNanos = Arrays.copyOf(contentNanos, 2 * numContentChunks);
                        }
                        contentNanos[numContentChunks++] = nanos;
                    }
                }
                case StreamEvent.Usage u -> usage = u;
                case StreamEvent.Error e -> {
                    if (error == null) {
                        error = e;
                    }
                }
                case StreamEvent.Done d -> done = true;
                case StreamEvent.Malformed m -> {
                    if (malformed == null) {
                        malformed = m.data();
                    }
                }
            }
        }
    }

    int numContentChunks() {
        return numContentChunks;
    }

    /** The record of a body that ended at {@code endNanos}, for a request sent at {@code sendNanos}. */
    RequestRecord finish(BenchRequest request, boolean warmup, long phaseStartNanos, long sendNanos, long endNanos) {
        double sendMs = millis(sendNanos - phaseStartNanos);
        double e2eMs = millis(endNanos - sendNanos);
        RequestError failure = null;
        if (error != null) {
            failure = new RequestError("stream", 0, error.type(), error.message());
        } else if (malformed != null) {
            failure = new RequestError("stream", 0, "malformed_chunk", abbreviate(malformed));
        } else if (!done) {
            failure = new RequestError("stream", 0, "incomplete", "the stream ended without data: [DONE]");
        } else if (numContentChunks == 0) {
            failure = new RequestError("stream", 0, "no_content", "no chunk carried text");
        }
        if (failure != null) {
            return RequestRecord.failed(request, warmup, sendMs, e2eMs, failure);
        }
        double[] itlMs = new double[numContentChunks - 1];
        for (int i = 1; i < numContentChunks; i++) {
            itlMs[i - 1] = millis(contentNanos[i] - contentNanos[i - 1]);
        }
        int numPrompt = usage != null ? usage.promptTokens() : request.numPromptTokensHint();
        int numOutput = usage != null ? usage.completionTokens() : numContentChunks;
        return new RequestRecord(request.index(), warmup, sendMs, millis(contentNanos[0] - sendNanos), itlMs, e2eMs,
                numPrompt, numOutput, usage != null, null, request.tenant(), usage != null ? usage.numCachedTokens() : -1);
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
