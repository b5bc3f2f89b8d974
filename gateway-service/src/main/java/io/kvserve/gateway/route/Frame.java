package io.kvserve.gateway.route;

import java.nio.charset.StandardCharsets;

/**
 * One server-sent event as an instance wrote it ({@code data: ...\n\n}, terminator included), and when
 * its last byte arrived here ({@link System#nanoTime()}), so the time the gateway holds it is measurable.
 *
 * @param bytes        the event's bytes, passed to the client unchanged
 * @param arrivedNanos when the event was complete at the gateway
 */
public record Frame(byte[] bytes, long arrivedNanos) {

    static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USAGE_OBJECT = "\"usage\":{".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ERROR_OBJECT = "data: {\"error\":".getBytes(StandardCharsets.US_ASCII);

    public static Frame now(byte[] bytes) {
        return new Frame(bytes, System.nanoTime());
    }

    boolean isDone() {
        return java.util.Arrays.equals(bytes, DONE);
    }

    /** The usage chunk of {@code stream_options.include_usage} (every other chunk has {@code "usage":null}). */
    boolean hasUsage() {
        return indexOf(bytes, USAGE_OBJECT) >= 0;
    }

    /** An error event the instance sent in place of more tokens. */
    boolean isError() {
        return startsWith(bytes, ERROR_OBJECT);
    }

    /** The JSON after {@code data: } without the terminator. */
    String json() {
        int start = 6; // "data: "
        int end = bytes.length;
        while (end > start && (bytes[end - 1] == '\n' || bytes[end - 1] == '\r')) {
            end--;
        }
        return new String(bytes, start, Math.max(0, end - start), StandardCharsets.UTF_8);
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
