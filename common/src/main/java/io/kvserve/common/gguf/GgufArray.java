package io.kvserve.common.gguf;

import java.util.List;
import java.util.Objects;

/**
 * A GGUF array value: its element type and the elements as the Java types listed in
 * {@link GgufValueType}. Elements of a nested array (element type {@link GgufValueType#ARRAY}) are
 * themselves {@code GgufArray}s.
 *
 * @param elementType the GGUF type of every element
 * @param elements    the elements, unmodifiable
 */
public record GgufArray(GgufValueType elementType, List<Object> elements) {

    public GgufArray {
        Objects.requireNonNull(elementType, "elementType");
        elements = List.copyOf(elements);
        for (Object e : elements) {
            GgufValue.checkJavaType(elementType, e);
        }
    }

    /** Number of elements. */
    public int size() {
        return elements.size();
    }
}
