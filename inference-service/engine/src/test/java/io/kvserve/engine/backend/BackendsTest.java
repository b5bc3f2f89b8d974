package io.kvserve.engine.backend;

import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.model.ModelRunner;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendsTest {

    /** A provider whose probe answers as told, recording whether it was opened. */
    static final class Scripted implements BackendProvider {
        final String name;
        final int priority;
        final BackendAvailability answer;
        final List<Integer> opened = new ArrayList<>();

        Scripted(String name, int priority, BackendAvailability answer) {
            this.name = name;
            this.priority = priority;
            this.answer = answer;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int priority() {
            return priority;
        }

        @Override
        public BackendAvailability probe() {
            return answer;
        }

        @Override
        public Backend open(BackendAvailability.Available available, int numThreads) {
            opened.add(numThreads);
            return new Backend() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public String description() {
                    return name + " backend";
                }

                @Override
                public ModelRunner createRunner(LlamaWeights weights, int numKvBlocks, int blockSize,
                                                KvCacheDtype kvCacheDtype, int maxBatchTokens) {
                    throw new UnsupportedOperationException();
                }
            };
        }
    }

    private final Scripted cpu = new Scripted("cpu", 0, new BackendAvailability.Available("cpu: 2 cores"));
    private final Scripted gpuMissing = new Scripted("cuda", 10,
            new BackendAvailability.Unavailable("libcuda.so.1 not found: no NVIDIA driver on this machine"));
    private final Scripted gpuThere = new Scripted("cuda", 10, new BackendAvailability.Available("NVIDIA H200"));

    @Test
    void select_autoWithoutGpu_picksTheCpuAndSaysWhyNotTheGpu() {
        Backends.Selection selection = Backends.select("auto", 3, List.of(cpu, gpuMissing));
        assertThat(selection.backend().name()).isEqualTo("cpu");
        assertThat(selection.explanation())
                .isEqualTo("auto: cuda unavailable (libcuda.so.1 not found: no NVIDIA driver on this machine); cpu: 2 cores");
        assertThat(cpu.opened).containsExactly(3);
        assertThat(gpuMissing.opened).isEmpty();
    }

    @Test
    void select_autoWithGpu_prefersItWhateverTheListOrder() {
        Backends.Selection selection = Backends.select("AUTO", 0, List.of(cpu, gpuThere));
        assertThat(selection.backend().name()).isEqualTo("cuda");
        assertThat(selection.explanation()).isEqualTo("auto: NVIDIA H200");
        assertThat(cpu.opened).isEmpty();
    }

    @Test
    void select_cudaByNameWithoutGpu_failsWithTheReasonInsteadOfFallingBack() {
        assertThatThrownBy(() -> Backends.select("cuda", 0, List.of(cpu, gpuMissing)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("kvserve.engine.backend=cuda cannot run here: libcuda.so.1 not found: no NVIDIA driver on this"
                        + " machine; use auto or cpu");
        assertThat(cpu.opened).isEmpty();
    }

    @Test
    void select_cudaWithoutTheModule_saysWhichModuleHasIt() {
        assertThatThrownBy(() -> Backends.select("cuda", 0, List.of(cpu)))
                .hasMessage("kvserve.engine.backend=cuda is not one of [auto, cpu] (the cuda backend is in the"
                        + " inference-cuda module, not on this class path)");
    }

    @Test
    void select_unknownName_listsTheChoices() {
        assertThatThrownBy(() -> Backends.select("tpu", 0, List.of(cpu, gpuMissing)))
                .hasMessage("kvserve.engine.backend=tpu is not one of [auto, cpu, cuda]");
    }

    @Test
    void providers_engineAlone_findsTheCpuThroughServiceLoader() {
        assertThat(Backends.providers()).extracting(BackendProvider::name).contains("cpu");
        try (Backend backend = Backends.select("cpu", 1).backend()) {
            assertThat(backend).isInstanceOf(CpuBackend.class);
            assertThat(backend.description()).isEqualTo("cpu: Vector API kernels on 1 threads");
        }
    }
}
