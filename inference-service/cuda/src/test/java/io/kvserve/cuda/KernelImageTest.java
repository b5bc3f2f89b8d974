package io.kvserve.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The committed fatbin is the build of the committed sources: the manifest names every source with
 * its SHA-256 (so an edited kernel without a rebuild fails here, with or without nvcc), the fatbin
 * holds every kernel the header declares, and where the manifest's nvcc is installed a rebuild gives
 * the same bytes.
 */
class KernelImageTest {

    private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void manifest_namesEverySourceWithItsCurrentHash() throws Exception {
        Map<String, String> manifest = KernelImage.manifest();
        Map<String, String> recorded = new TreeMap<>();
        manifest.forEach((key, value) -> {
            if (key.startsWith("source ")) {
                recorded.put(key.substring("source ".length()), value);
            }
        });
        Map<String, String> actual = new TreeMap<>();
        try (Stream<Path> files = Files.list(LaunchTest.cudaSources())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu") || p.toString().endsWith(".cuh")
                    || p.toString().endsWith(".h")).toList()) {
                actual.put(f.getFileName().toString(), sha256(Files.readAllBytes(f)));
            }
        }
        assertThat(recorded).as("sources changed since the fatbin was built: run inference-service/cuda/build-kernels")
                .isEqualTo(actual);
        assertThat(manifest.get("fatbin sha256")).isEqualTo(sha256(KernelImage.fatbin()));
        assertThat(manifest.get("flags")).contains("arch=compute_80,code=sm_80", "arch=compute_90,code=sm_90",
                "arch=compute_90,code=compute_90");
    }

    @Test
    void fatbin_holdsEveryDeclaredKernel() throws IOException {
        String image = new String(KernelImage.fatbin(), StandardCharsets.ISO_8859_1);
        for (String kernel : LaunchTest.declaredKernels()) {
            assertThat(image).as(kernel).contains(kernel + "\0");
        }
    }

    @Test
    void rebuild_withTheManifestsNvcc_givesTheSameBytes() throws Exception {
        String nvccVersion;
        try {
            Process p = new ProcessBuilder("nvcc", "--version").redirectErrorStream(true).start();
            String[] lines = new String(p.getInputStream().readAllBytes()).strip().split("\n");
            p.waitFor(60, TimeUnit.SECONDS);
            nvccVersion = lines[lines.length - 1].strip();
        } catch (IOException e) {
            assumeTrue(false, "no nvcc here: the committed fatbin is used as it is");
            return;
        }
        assumeTrue(nvccVersion.equals(KernelImage.manifest().get("nvcc")),
                "nvcc here is '" + nvccVersion + "', the fatbin was built with '" + KernelImage.manifest().get("nvcc") + "'");
        Path script = LaunchTest.cudaSources().toAbsolutePath().resolve("../../../build-kernels").normalize();
        Process build = new ProcessBuilder(script.toString(), "--check").redirectErrorStream(true).start();
        String output = new String(build.getInputStream().readAllBytes());
        assertThat(build.waitFor(15, TimeUnit.MINUTES)).isTrue();
        assertThat(build.exitValue()).as(output).isZero();
        assertThat(output).contains("match a rebuild");
    }
}
