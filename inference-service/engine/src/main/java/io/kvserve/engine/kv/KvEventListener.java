package io.kvserve.engine.kv;

/**
 * Receives the {@link KvEvent}s of a {@link BlockPool}, synchronously on the engine thread that
 * changed the pool: an implementation must not block (buffer and publish elsewhere) and must not
 * call back into the pool.
 */
@FunctionalInterface
public interface KvEventListener {

    /** A listener that drops every event. */
    KvEventListener NONE = event -> { };

    void onEvent(KvEvent event);
}
