package io.kvserve.engine.backend;

/**
 * A backend that may or may not run on this machine, found with {@link java.util.ServiceLoader}: the
 * engine module registers the CPU one, the {@code inference-cuda} module the CUDA one, so the engine
 * never links a GPU library it does not need.
 */
public interface BackendProvider {

    /** The name {@code kvserve.engine.backend} selects it by ({@code cpu}, {@code cuda}). */
    String name();

    /**
     * Higher is preferred by {@code auto} among the available ones (the CPU is 0: the fallback).
     */
    int priority();

    /**
     * Whether the backend can run here, found without side effects that could break a later
     * choice (the CUDA probe loads no JCuda class: a failed static initializer would poison it for
     * the JVM's life).
     */
    BackendAvailability probe();

    /**
     * Opens the backend on what {@link #probe()} found (its device description), so nothing is
     * probed twice.
     *
     * @param available  this provider's own probe answer
     * @param numThreads CPU threads the backend may use (the CPU backend's kernels; 0 for all cores)
     */
    Backend open(BackendAvailability.Available available, int numThreads);
}
