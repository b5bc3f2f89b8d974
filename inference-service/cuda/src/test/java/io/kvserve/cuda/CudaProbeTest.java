package io.kvserve.cuda;

import io.kvserve.engine.backend.BackendAvailability;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The probe's answers, through real FFM calls: against a path with no library, and against small
 * driver stand-ins compiled here with gcc (fake_libcuda.c), one per situation a user can be in.
 */
class CudaProbeTest {

    @TempDir
    static Path dir;
    static Path source;

    @BeforeAll
    static void copySource() throws IOException {
        source = dir.resolve("fake_libcuda.c");
        try (InputStream in = CudaProbeTest.class.getResourceAsStream("fake_libcuda.c")) {
            Files.copy(in, source);
        }
    }

    /** A driver stand-in built with {@code defines}; skips the test where gcc is missing. */
    static String driver(String name, String... defines) throws IOException, InterruptedException {
        Path lib = dir.resolve(name + ".so");
        List<String> command = new ArrayList<>(List.of("gcc", "-shared", "-fPIC", "-o", lib.toString(), source.toString()));
        for (String d : defines) {
            command.add("-D" + d);
        }
        Process gcc;
        try {
            gcc = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "gcc is not installed: " + e.getMessage());
            throw e;
        }
        String output = new String(gcc.getInputStream().readAllBytes());
        assertThat(gcc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(gcc.exitValue()).as(output).isZero();
        return lib.toString();
    }

    @Test
    void probe_noDriverLibrary_isUnavailableSayingSo() {
        BackendAvailability answer = CudaProbe.probe(dir.resolve("no-such-libcuda.so.1").toString());
        assertThat(answer).isInstanceOf(BackendAvailability.Unavailable.class);
        assertThat(((BackendAvailability.Unavailable) answer).reason()).contains("not found: no NVIDIA driver");
    }

    @Test
    void probe_hopperWithNewDriver_isAvailableAndDescribesTheDevice() throws Exception {
        BackendAvailability answer = CudaProbe.probe(driver("h200"));
        assertThat(answer).isEqualTo(new BackendAvailability.Available("NVIDIA H200 (sm_90, 139.8 GiB), driver 13.0, 1 device"));
    }

    @Test
    void probe_twoAmpereDevices_isAvailable() throws Exception {
        BackendAvailability answer = CudaProbe.probe(driver("a100x2", "CC_MAJOR=8", "NUM_DEVICES=2",
                "TOTAL_MEM=85899345920ULL", "DRIVER_VERSION=12040"));
        assertThat(answer).isEqualTo(new BackendAvailability.Available("NVIDIA H200 (sm_80, 80.0 GiB), driver 12.4, 2 devices"));
    }

    @Test
    void probe_cuInitFails_isUnavailableWithTheError() throws Exception {
        BackendAvailability answer = CudaProbe.probe(driver("nodevice", "INIT_STATUS=100"));
        assertThat(answer).isEqualTo(new BackendAvailability.Unavailable(
                "cuInit failed with CUDA error 100 (CUDA_ERROR_NO_DEVICE: no GPU visible to this process)"));
    }

    @Test
    void probe_cuda11Driver_isUnavailableAskingForAnUpdate() throws Exception {
        BackendAvailability answer = CudaProbe.probe(driver("old", "DRIVER_VERSION=11080"));
        assertThat(answer).isEqualTo(new BackendAvailability.Unavailable(
                "the driver supports CUDA 11.8; the CUDA backend needs 12.0 or newer (update the NVIDIA driver)"));
    }

    @Test
    void probe_zeroDevices_isUnavailable() throws Exception {
        assertThat(CudaProbe.probe(driver("zero", "NUM_DEVICES=0")))
                .isEqualTo(new BackendAvailability.Unavailable("the driver sees no CUDA device"));
    }

    @Test
    void probe_turingDevice_isUnavailableNamingTheArchitectures() throws Exception {
        BackendAvailability answer = CudaProbe.probe(driver("t4", "CC_MAJOR=7", "CC_MINOR=5"));
        assertThat(((BackendAvailability.Unavailable) answer).reason())
                .startsWith("NVIDIA H200 (sm_75").contains("compute capability 8.0 and newer");
    }

    @Test
    void probeClass_referencesNoJCudaClass() throws IOException {
        // loading CudaProbe must not load JCuda (a failed static initializer poisons its class)
        try (InputStream in = CudaProbe.class.getResourceAsStream("CudaProbe.class")) {
            assertThat(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("jcuda/");
        }
    }
}
