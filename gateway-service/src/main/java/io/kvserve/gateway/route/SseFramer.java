package io.kvserve.gateway.route;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import reactor.core.publisher.Flux;

/**
 * Cuts an instance's SSE body, which arrives in network-sized pieces, into whole events. An event
 * ends with a blank line ({@code \n\n}: the instances write exactly that). The gateway looks at
 * whole events only to know when the first token came, to pick up the usage chunk and to see
 * {@code [DONE]}; the bytes pass through unchanged.
 *
 * <pre>
 *   buffers:  |data: {"a"|:1}\n\ndata: {"b":2}\n\nda|ta: [DONE]\n\n|
 *   frames:   |data: {"a":1}\n\n|data: {"b":2}\n\n|data: [DONE]\n\n|
 * </pre>
 */
final class SseFramer {

    /** An event bigger than this is a broken upstream, not a token. */
    static final int MAX_EVENT_BYTES = 16 << 20;

    /** Bytes of the event being cut, not yet ended: {@code pending[0, numPending)}. */
    private byte[] pending = new byte[512];
    private int numPending;
    private boolean lastWasNewline;

    private SseFramer() {
    }

    /** The events of {@code body}, each complete; a trailing partial event is dropped (the stream was cut). */
    static Flux<Frame> frames(Flux<DataBuffer> body) {
        return Flux.defer(() -> {
            SseFramer framer = new SseFramer();
            return body.concatMapIterable(framer::accept);
        });
    }

    private List<Frame> accept(DataBuffer buffer) {
        try {
            int count = buffer.readableByteCount();
            byte[] chunk = new byte[count];
            buffer.read(chunk);
            List<Frame> frames = List.of();
            int start = 0; // first byte of chunk not yet copied to pending
            for (int i = 0; i < count; i++) {
                byte b = chunk[i];
                if (b == '\n') {
                    if (lastWasNewline) {
                        append(chunk, start, i + 1 - start);
                        start = i + 1;
                        if (frames.isEmpty()) {
                            frames = new ArrayList<>(2);
                        }
                        frames.add(Frame.now(Arrays.copyOf(pending, numPending)));
                        numPending = 0;
                        lastWasNewline = false;
                        continue;
                    }
                    lastWasNewline = true;
                } else if (b != '\r') {
                    lastWasNewline = false;
                }
            }
            append(chunk, start, count - start);
            return frames;
        } finally {
            DataBufferUtils.release(buffer);
        }
    }

    private void append(byte[] bytes, int offset, int length) {
        if (numPending + length > MAX_EVENT_BYTES) {
            throw new IllegalStateException("an event from the instance is over " + MAX_EVENT_BYTES + " bytes");
        }
        if (numPending + length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, numPending + length));
        }
        System.arraycopy(bytes, offset, pending, numPending, length);
        numPending += length;
    }
}
