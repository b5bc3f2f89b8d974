package io.kvserve.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The compiled kernels: {@code kvserve-kernels.fatbin} (sm_80 and sm_90 machine code plus compute_90
 * PTX, which newer GPUs JIT-compile), built from {@code src/main/cuda} by
 * {@code inference-service/cuda/build-kernels} with {@code nvcc} and committed, so builds on machines
 * without CUDA still ship them. Beside it, {@code kvserve-kernels.manifest} records what it was built
 * from: the nvcc version, its flags, and each source's SHA-256 (a test checks the sources still match,
 * and where the same nvcc is installed, that rebuilding gives the same bytes).
 */
public final class KernelImage {

    static final String FATBIN = "kvserve-kernels.fatbin";
    static final String MANIFEST = "kvserve-kernels.manifest";

    private KernelImage() {
    }

    /** The fatbin's bytes, from the class path. */
    public static byte[] fatbin() {
        return resource(FATBIN);
    }

    /** The manifest's {@code key: value} lines, in order. */
    public static Map<String, String> manifest() {
        Map<String, String> entries = new LinkedHashMap<>();
        for (String line : new String(resource(MANIFEST), StandardCharsets.UTF_8).split("\n")) {
            int colon = line.indexOf(": ");
            if (!line.isBlank() && !line.startsWith("#") && colon > 0) {
                entries.put(line.substring(0, colon), line.substring(colon + 2).trim());
            }
        }
        return entries;
    }

    private static byte[] resource(String name) {
        try (InputStream in = KernelImage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is not on the class path: build the kernels with "
                        + "inference-service/cuda/build-kernels (needs nvcc) or restore the committed file");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
