package io.kvserve.engine.model;

/** Element type of the KV cache: F32 (exact, as llama.cpp's {@code --kv f32}) or F16 (half the memory, llama.cpp's default). */
public enum KvCacheDtype {
    F32(Float.BYTES),
    F16(Short.BYTES);

    private final int numBytes;

    KvCacheDtype(int numBytes) {
        this.numBytes = numBytes;
    }

    /** Bytes per element. */
    public int numBytes() {
        return numBytes;
    }
}
