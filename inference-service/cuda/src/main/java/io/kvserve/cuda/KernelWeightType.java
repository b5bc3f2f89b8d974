package io.kvserve.cuda;

import io.kvserve.common.gguf.GgmlType;

import java.util.Locale;

/** The weight types the CUDA kernels read, each with its kernels' name suffix ({@code matvec_q8_0}). */
public enum KernelWeightType {
    F32(false), F16(false), BF16(false), Q8_0(true), Q4_0(true);

    private final boolean quantized;

    KernelWeightType(boolean quantized) {
        this.quantized = quantized;
    }

    /** Quants plus f16 scales per 32 values (read with int8 dot products). */
    public boolean quantized() {
        return quantized;
    }

    /** The kernel name suffix: {@code f16}, {@code q8_0}. */
    public String suffix() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Bytes of the values array of a (rows, cols) matrix. */
    public long valueBytes(long rows, long cols) {
        return switch (this) {
            case F32 -> rows * cols * 4;
            case F16, BF16 -> rows * cols * 2;
            case Q8_0 -> rows * cols;
            case Q4_0 -> rows * cols / 2;
        };
    }

    /**
     * The kernels' type for a file's weight type.
     *
     * @throws IllegalArgumentException for a type without CUDA kernels (Q4_K, Q6_K)
     */
    public static KernelWeightType of(GgmlType type) {
        return switch (type) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            default -> throw new IllegalArgumentException("weight type " + type + " has no CUDA kernel (the CUDA backend"
                    + " reads F32, F16, BF16, Q8_0 and Q4_0); run this model with kvserve.engine.backend=cpu");
        };
    }
}
