package io.kvserve.engine.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Picks the backend for {@code kvserve.engine.backend}: {@code auto} takes the available provider
 * of highest priority (CUDA where a GPU and its driver are, else the CPU) and says why the others
 * were passed over; a named backend is that one or an error with its reason.
 */
public final class Backends {

    private Backends() {
    }

    /**
     * The chosen backend, opened, and the sentence that explains the choice.
     *
     * @param backend     the opened backend
     * @param explanation e.g. "auto: cuda unavailable (libcuda.so.1 not found: no NVIDIA driver); cpu"
     */
    public record Selection(Backend backend, String explanation) {
    }

    /** Every provider on the class path, highest priority first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> providers = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(providers::add);
        providers.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        return providers;
    }

    /** Selects among {@link #providers()}. */
    public static Selection select(String requested, int numThreads) {
        return select(requested, numThreads, providers());
    }

    /**
     * Selects among {@code providers}.
     *
     * @throws IllegalArgumentException for an unknown name, or a named backend that cannot run here
     *                                  (with its reason: a user who asked for cuda must not silently
     *                                  get the CPU)
     */
    public static Selection select(String requested, int numThreads, List<BackendProvider> providers) {
        String name = requested.trim().toLowerCase(Locale.ROOT);
        if (name.equals("auto")) {
            StringBuilder passedOver = new StringBuilder();
            List<BackendProvider> byPriority = new ArrayList<>(providers);
            byPriority.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
            for (BackendProvider provider : byPriority) {
                switch (provider.probe()) {
                    case BackendAvailability.Available available -> {
                        return new Selection(provider.open(available, numThreads),
                                "auto: " + passedOver + available.description());
                    }
                    case BackendAvailability.Unavailable unavailable ->
                            passedOver.append(provider.name()).append(" unavailable (").append(unavailable.reason()).append("); ");
                }
            }
            throw new IllegalStateException("no backend can run here: " + passedOver);
        }
        for (BackendProvider provider : providers) {
            if (provider.name().equals(name)) {
                return switch (provider.probe()) {
                    case BackendAvailability.Available available ->
                            new Selection(provider.open(available, numThreads), name + ": " + available.description());
                    case BackendAvailability.Unavailable unavailable -> throw new IllegalArgumentException(
                            "kvserve.engine.backend=" + name + " cannot run here: " + unavailable.reason()
                                    + "; use auto or cpu");
                };
            }
        }
        List<String> names = new ArrayList<>(List.of("auto"));
        providers.forEach(p -> names.add(p.name()));
        throw new IllegalArgumentException("kvserve.engine.backend=" + requested + " is not one of " + names
                + (name.equals("cuda") ? " (the cuda backend is in the inference-cuda module, not on this class path)" : ""));
    }
}
