package io.kvserve.common.gguf;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A GGUF array value: its element type and the elements.
 *
 * <p>Elements are stored unboxed, one Java array per GGUF array, so a vocabulary-sized array costs
 * what its values cost (a 150 MB UINT8 array is a 150 MB {@code byte[]}, not 150 M boxed
 * {@code Integer}s in a list). Storage per element type:
 * <pre>
 * UINT8, INT8 -> byte[]     UINT16, INT16 -> short[]   UINT32, INT32 -> int[] (UINT32 as raw bits)
 * UINT64, INT64 -> long[]   FLOAT32 -> float[]         FLOAT64 -> double[]
 * BOOL -> boolean[]         STRING -> String[]         ARRAY -> GgufArray[]
 * </pre>
 * {@link #elements()} is a read-only boxed view of that storage, each element as the Java type
 * {@link GgufValueType} lists; the typed getters read without boxing.
 */
public final class GgufArray {
    private final GgufValueType elementType;
    /** One of the Java arrays in the table above; never exposed, never modified. */
    private final Object storage;
    private final int size;

    /**
     * Copies {@code elements} (each the Java type {@link GgufValueType} lists for
     * {@code elementType}) into unboxed storage.
     *
     * @throws IllegalArgumentException if an element has the wrong Java type or range
     */
    public GgufArray(GgufValueType elementType, List<?> elements) {
        this.elementType = Objects.requireNonNull(elementType, "elementType");
        int n = elements.size();
        for (Object e : elements) {
            GgufValue.checkJavaType(elementType, e);
        }
        this.size = n;
        this.storage = switch (elementType) {
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (byte) (int) (Integer) elements.get(i);
                }
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (short) (int) (Integer) elements.get(i);
                }
                yield a;
            }
            case INT32 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Integer) elements.get(i);
                }
                yield a;
            }
            case UINT32 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (int) (long) (Long) elements.get(i);
                }
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Long) elements.get(i);
                }
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Float) elements.get(i);
                }
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Double) elements.get(i);
                }
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Boolean) elements.get(i);
                }
                yield a;
            }
            case STRING -> elements.toArray(new String[0]);
            case ARRAY -> elements.toArray(new GgufArray[0]);
        };
    }

    /** Takes ownership of {@code storage}, already of the right Java array type (the reader's path). */
    private GgufArray(GgufValueType elementType, Object storage, int size) {
        this.elementType = elementType;
        this.storage = storage;
        this.size = size;
    }

    /**
     * Wraps {@code storage} without copying; the caller hands it over and must not modify it.
     *
     * @throws IllegalArgumentException if {@code storage} is not the array type listed above for
     *                                  {@code elementType}
     */
    static GgufArray wrap(GgufValueType elementType, Object storage) {
        Class<?> expected = storageClass(elementType);
        if (storage == null || storage.getClass() != expected) {
            throw new IllegalArgumentException("GGUF " + elementType + " array needs a " + expected.getSimpleName()
                    + ", got " + (storage == null ? "null" : storage.getClass().getSimpleName()));
        }
        if (storage instanceof Object[] objects) {
            for (Object o : objects) {
                Objects.requireNonNull(o, "GGUF array elements cannot be null");
            }
        }
        return new GgufArray(elementType, storage, java.lang.reflect.Array.getLength(storage));
    }

    static Class<?> storageClass(GgufValueType elementType) {
        return switch (elementType) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> GgufArray[].class;
        };
    }

    /** The GGUF type of every element. */
    public GgufValueType elementType() {
        return elementType;
    }

    /** Number of elements. */
    public int size() {
        return size;
    }

    /** The elements as a read-only list of the Java types {@link GgufValueType} lists, boxed on access. */
    public List<Object> elements() {
        return new AbstractList<>() {
            @Override
            public Object get(int index) {
                return element(index);
            }

            @Override
            public int size() {
                return size;
            }
        };
    }

    /** Element {@code index} as the Java type {@link GgufValueType} lists for the element type. */
    public Object element(int index) {
        Objects.checkIndex(index, size);
        return switch (elementType) {
            case UINT8 -> ((byte[]) storage)[index] & 0xFF;
            case INT8 -> (int) ((byte[]) storage)[index];
            case UINT16 -> ((short[]) storage)[index] & 0xFFFF;
            case INT16 -> (int) ((short[]) storage)[index];
            case INT32 -> ((int[]) storage)[index];
            case UINT32 -> Integer.toUnsignedLong(((int[]) storage)[index]);
            case UINT64, INT64 -> ((long[]) storage)[index];
            case FLOAT32 -> ((float[]) storage)[index];
            case FLOAT64 -> ((double[]) storage)[index];
            case BOOL -> ((boolean[]) storage)[index];
            case STRING -> ((String[]) storage)[index];
            case ARRAY -> ((GgufArray[]) storage)[index];
        };
    }

    /**
     * Integer element {@code index}, unsigned types zero-extended (UINT64 as its raw bits).
     *
     * @throws IllegalStateException if the elements are not integers
     */
    public long getLong(int index) {
        Objects.checkIndex(index, size);
        return switch (elementType) {
            case UINT8 -> ((byte[]) storage)[index] & 0xFF;
            case INT8 -> ((byte[]) storage)[index];
            case UINT16 -> ((short[]) storage)[index] & 0xFFFF;
            case INT16 -> ((short[]) storage)[index];
            case INT32 -> ((int[]) storage)[index];
            case UINT32 -> Integer.toUnsignedLong(((int[]) storage)[index]);
            case UINT64, INT64 -> ((long[]) storage)[index];
            default -> throw new IllegalStateException("GGUF array of " + elementType + " has no integer elements");
        };
    }

    /**
     * FLOAT32 or FLOAT64 element {@code index}.
     *
     * @throws IllegalStateException if the elements are not floats
     */
    public double getDouble(int index) {
        Objects.checkIndex(index, size);
        return switch (elementType) {
            case FLOAT32 -> ((float[]) storage)[index];
            case FLOAT64 -> ((double[]) storage)[index];
            default -> throw new IllegalStateException("GGUF array of " + elementType + " has no float elements");
        };
    }

    /** A STRING array's elements as a read-only list (no copy). @throws IllegalStateException otherwise */
    public List<String> strings() {
        if (elementType != GgufValueType.STRING) {
            throw new IllegalStateException("GGUF array of " + elementType + " is not a STRING array");
        }
        return java.util.Collections.unmodifiableList(Arrays.asList((String[]) storage));
    }

    /** A FLOAT32 array's elements as a new float[]. @throws IllegalStateException otherwise */
    float[] float32Copy() {
        if (elementType != GgufValueType.FLOAT32) {
            throw new IllegalStateException("GGUF array of " + elementType + " is not a FLOAT32 array");
        }
        return ((float[]) storage).clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray a && a.elementType == elementType
                && Arrays.deepEquals(new Object[] {storage}, new Object[] {a.storage});
    }

    @Override
    public int hashCode() {
        return 31 * elementType.hashCode() + Arrays.deepHashCode(new Object[] {storage});
    }

    @Override
    public String toString() {
        return "GgufArray[elementType=" + elementType + ", size=" + size + "]";
    }
}
