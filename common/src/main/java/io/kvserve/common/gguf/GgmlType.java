package io.kvserve.common.gguf;

import java.util.Optional;

/**
 * Tensor element types, numbered as ggml's {@code enum ggml_type} so the ids can be read from and
 * written to GGUF tensor infos unchanged.
 *
 * <p>Every type records its block geometry: {@link #blockSize()} elements are stored in
 * {@link #typeSize()} bytes. A row of {@code ne0} elements therefore takes
 * {@code ne0 / blockSize * typeSize} bytes and {@code ne0} must be a multiple of the block size.
 * Types whose layout this class does not know (ids ggml added after this table was written) have
 * block size 0; a GGUF file using them is rejected with a message naming the type.
 *
 * <p>{@link #isSupported()} says whether {@link GgmlQuants} can quantize and dequantize the type.
 * The others are known so that a file holding them can still be opened, sized, and its tensors
 * copied byte for byte; an attempt to convert them names the type in the error.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, false),
    Q5_0(6, 32, 22, false),
    Q5_1(7, 32, 24, false),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, false),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false),
    MXFP4(39, 32, 17, false),
    /** Newer ggml id; layout not recorded here. */
    NVFP4(40, 0, 0, false),
    /** Newer ggml id; layout not recorded here. */
    Q1_0(41, 0, 0, false);

    /** QK_K: elements per super-block of the k-quants. */
    public static final int QK_K = 256;

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final int blockSize;
    private final int typeSize;
    private final boolean supported;

    GgmlType(int id, int blockSize, int typeSize, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.supported = supported;
    }

    /** ggml's {@code ggml_type} number. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types); 0 when the layout is unknown here. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block; 0 when the layout is unknown here. */
    public int typeSize() {
        return typeSize;
    }

    /** Whether {@link GgmlQuants} converts this type to and from float. */
    public boolean isSupported() {
        return supported;
    }

    /** Whether the block geometry is known, so tensors of this type can be sized and copied. */
    public boolean hasKnownLayout() {
        return blockSize > 0;
    }

    /** The type with ggml id {@code id}, if ggml defines one. */
    public static Optional<GgmlType> fromId(long id) {
        if (id < 0 || id >= BY_ID.length) {
            return Optional.empty();
        }
        return Optional.ofNullable(BY_ID[(int) id]);
    }

    /**
     * Bytes taken by {@code numElements} elements; {@code numElements} must be a multiple of the
     * block size.
     *
     * @throws IllegalArgumentException if it is not, or the layout is unknown
     * @throws ArithmeticException if the byte count overflows a long
     */
    public long byteSize(long numElements) {
        if (!hasKnownLayout()) {
            throw new IllegalArgumentException("ggml type " + this + " (id " + id + ") has no known block layout");
        }
        if (numElements < 0 || numElements % blockSize != 0) {
            throw new IllegalArgumentException(
                    numElements + " elements is not a multiple of " + this + "'s block size " + blockSize);
        }
        return Math.multiplyExact(numElements / blockSize, (long) typeSize);
    }
}
