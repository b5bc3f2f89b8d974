package io.kvserve.cuda;

import io.kvserve.engine.backend.BackendAvailability;
import io.kvserve.engine.backend.BackendProvider;
import io.kvserve.engine.backend.Backends;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** With this module on the class path, ServiceLoader finds the CUDA backend beside the CPU one. */
class CudaBackendSelectionTest {

    @Test
    void providers_withThisModule_offerCudaFirst() {
        assertThat(Backends.providers()).extracting(BackendProvider::name).startsWith("cuda").contains("cpu");
    }

    @Test
    void select_autoOnAMachineWithoutDriver_fallsBackToTheCpuNamingTheMissingLibrary() {
        assumeTrue(CudaProbe.probe() instanceof BackendAvailability.Unavailable, "this machine has a CUDA driver");
        Backends.Selection selection = Backends.select("auto", 1);
        try (var backend = selection.backend()) {
            assertThat(backend.name()).isEqualTo("cpu");
        }
        assertThat(selection.explanation()).startsWith("auto: cuda unavailable (").endsWith("; cpu: "
                + Runtime.getRuntime().availableProcessors() + " cores");
    }

    @Test
    void select_cudaOnAMachineWithoutDriver_refusesWithTheProbesReason() {
        BackendAvailability answer = CudaProbe.probe();
        assumeTrue(answer instanceof BackendAvailability.Unavailable, "this machine has a CUDA driver");
        assertThatThrownBy(() -> Backends.select("cuda", 1))
                .hasMessageContaining("cannot run here: " + ((BackendAvailability.Unavailable) answer).reason());
    }
}
