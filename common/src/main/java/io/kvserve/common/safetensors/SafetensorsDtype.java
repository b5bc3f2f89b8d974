package io.kvserve.common.safetensors;

import io.kvserve.common.gguf.GgmlType;
import java.util.Optional;

/**
 * Element types of the safetensors format, spelled as in the header's {@code "dtype"}. Only F32,
 * F16 and BF16 convert to float here; the others are known so a file holding them still opens and
 * an attempt to read them as floats names the type.
 */
public enum SafetensorsDtype {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), F8_E8M0(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    I64(8), U64(8), F64(8), C64(8);

    private final int elementBytes;

    SafetensorsDtype(int elementBytes) {
        this.elementBytes = elementBytes;
    }

    /** Bytes per element. */
    public int elementBytes() {
        return elementBytes;
    }

    /** Whether values convert to and from float. */
    public boolean isSupported() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The ggml type with the same element layout (F32, F16, BF16), used for conversion. */
    Optional<GgmlType> ggmlType() {
        return switch (this) {
            case F32 -> Optional.of(GgmlType.F32);
            case F16 -> Optional.of(GgmlType.F16);
            case BF16 -> Optional.of(GgmlType.BF16);
            default -> Optional.empty();
        };
    }

    /** The dtype spelled {@code name} in a header, if known. */
    public static Optional<SafetensorsDtype> fromName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
