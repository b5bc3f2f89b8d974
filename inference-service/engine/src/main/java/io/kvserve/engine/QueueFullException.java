package io.kvserve.engine;

/**
 * The engine's waiting queue is at {@code maxNumWaiting}: the request is refused before it enters.
 * The service maps it to HTTP 429 with a {@code Retry-After}; unlike
 * {@link InvalidRequestException} the same request may succeed later.
 */
public final class QueueFullException extends RuntimeException {

    private final int maxNumWaiting;

    public QueueFullException(int maxNumWaiting) {
        super("the engine's waiting queue is full (" + maxNumWaiting + " requests); retry later");
        this.maxNumWaiting = maxNumWaiting;
    }

    public int maxNumWaiting() {
        return maxNumWaiting;
    }
}
