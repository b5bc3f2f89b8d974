package io.kvserve.common.gguf;

import java.util.Objects;

/**
 * One metadata value with its exact GGUF type, so a file can be rewritten byte for byte.
 *
 * @param type  the GGUF value type
 * @param value the value as the Java type that {@link GgufValueType} lists for {@code type}
 */
public record GgufValue(GgufValueType type, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        checkJavaType(type, value);
    }

    static void checkJavaType(GgufValueType type, Object value) {
        Objects.requireNonNull(value, "GGUF values cannot be null");
        boolean ok = switch (type) {
            case UINT8 -> value instanceof Integer i && i >= 0 && i <= 0xFF;
            case INT8 -> value instanceof Integer i && i >= Byte.MIN_VALUE && i <= Byte.MAX_VALUE;
            case UINT16 -> value instanceof Integer i && i >= 0 && i <= 0xFFFF;
            case INT16 -> value instanceof Integer i && i >= Short.MIN_VALUE && i <= Short.MAX_VALUE;
            case INT32 -> value instanceof Integer;
            case UINT32 -> value instanceof Long l && l >= 0 && l <= 0xFFFF_FFFFL;
            case UINT64, INT64 -> value instanceof Long;
            case FLOAT32 -> value instanceof Float;
            case FLOAT64 -> value instanceof Double;
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> value instanceof GgufArray;
        };
        if (!ok) {
            throw new IllegalArgumentException("GGUF " + type + " value needs the Java type listed in GgufValueType, got "
                    + value.getClass().getSimpleName() + " " + value);
        }
    }
}
