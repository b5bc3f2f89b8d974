package io.kvserve.cuda;

import io.kvserve.engine.backend.BackendAvailability;

/** The condition of the GPU tests: they run where {@link CudaProbe} finds a usable device, and skip elsewhere (CI). */
final class Gpu {

    private static final BackendAvailability AVAILABILITY = CudaProbe.probe();

    private Gpu() {
    }

    /** For {@code @EnabledIf("io.kvserve.cuda.Gpu#available")}. */
    static boolean available() {
        return AVAILABILITY instanceof BackendAvailability.Available;
    }
}
