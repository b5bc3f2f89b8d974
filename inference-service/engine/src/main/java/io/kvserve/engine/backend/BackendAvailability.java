package io.kvserve.engine.backend;

/** A {@link BackendProvider}'s answer to "can you run here?". */
public sealed interface BackendAvailability {

    /** @param description the device, as {@link Backend#description()} will say it */
    record Available(String description) implements BackendAvailability {
    }

    /** @param reason why not, in words an operator can act on ("libcuda.so.1 not found: no NVIDIA driver") */
    record Unavailable(String reason) implements BackendAvailability {
    }
}
