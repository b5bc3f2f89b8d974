package io.kvserve.common.events;

import java.util.Locale;

/** An instance's status in the registry ({@code status} field, lowercase on the wire). */
public enum InstanceStatus {
    /** Serving: may be given new requests. */
    READY,
    /** Shutting down: finishing what it runs, give it nothing new. */
    DRAINING;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static InstanceStatus fromWire(String value) {
        return switch (value) {
            case "ready" -> READY;
            case "draining" -> DRAINING;
            default -> throw new IllegalArgumentException("unknown instance status '" + value + "'; ready or draining");
        };
    }
}
