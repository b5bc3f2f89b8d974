package io.kvserve.cli;

import io.kvserve.engine.model.KvCacheDtype;
import java.util.Locale;

/** Parsing of the option values that the engine commands ({@code generate}, {@code bench}) share. */
final class EngineOptions {

    private EngineOptions() {
    }

    /** {@code --threads}: the given count, or the available processors when absent; at least 1. */
    static int numThreads(Integer threads) {
        int numThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (numThreads < 1) {
            throw new IllegalArgumentException("--threads " + numThreads + " must be >= 1");
        }
        return numThreads;
    }

    /** {@code --kv-type}: f16 or f32, any case. */
    static KvCacheDtype kvCacheDtype(String kvType) {
        return switch (kvType.toLowerCase(Locale.ROOT)) {
            case "f16" -> KvCacheDtype.F16;
            case "f32" -> KvCacheDtype.F32;
            default -> throw new IllegalArgumentException("--kv-type " + kvType + ": f16 or f32");
        };
    }
}
