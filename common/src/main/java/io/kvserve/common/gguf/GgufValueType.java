package io.kvserve.common.gguf;

import java.util.Optional;

/**
 * GGUF metadata value types, numbered as in the GGUF spec ({@code gguf_type}), with the Java type
 * {@link GgufFile#metadata()} uses for each:
 *
 * <pre>
 * UINT8, INT8, UINT16, INT16, INT32 -> Integer   (unsigned values zero-extended)
 * UINT32, INT64                      -> Long      (UINT32 zero-extended)
 * UINT64                             -> Long      (the raw 64 bits; read with Long.toUnsignedString)
 * FLOAT32 -> Float, FLOAT64 -> Double, BOOL -> Boolean, STRING -> String (UTF-8)
 * ARRAY                              -> GgufArray (element type + unboxed elements, nested allowed)
 * </pre>
 */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    /** Encoded as uint64 byte length + UTF-8 bytes: at least 8 bytes. */
    STRING(8, 8),
    /** Encoded as uint32 element type + uint64 count + elements: at least 12 bytes. */
    ARRAY(9, 12),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private final int id;
    private final int minEncodedBytes;

    GgufValueType(int id, int minEncodedBytes) {
        this.id = id;
        this.minEncodedBytes = minEncodedBytes;
    }

    /** The spec's number for this type. */
    public int id() {
        return id;
    }

    /** Fewest bytes one value of this type takes in a file (exact for fixed-size types). */
    public int minEncodedBytes() {
        return minEncodedBytes;
    }

    /** Whether the value is an integer of any width or signedness. */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type numbered {@code id}, if any. */
    public static Optional<GgufValueType> fromId(long id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
