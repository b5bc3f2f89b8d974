package io.kvserve.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LaunchTest {

    /** The CUDA sources, from the module (Maven) or from the repository root (gpu-run on the GPU machine). */
    static Path cudaSources() {
        Path fromModule = Path.of("src/main/cuda");
        return Files.isDirectory(fromModule) ? fromModule : Path.of("inference-service/cuda/src/main/cuda");
    }

    static final Path HEADER = cudaSources().resolve("kvserve_kernels.h");

    /** The kernel names kvserve_kernels.h declares. */
    static Set<String> declaredKernels() throws IOException {
        Matcher m = Pattern.compile("KVS_API\\s+void\\s+(\\w+)\\s*\\(").matcher(Files.readString(HEADER));
        Set<String> names = new TreeSet<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** Every kernel name the Java side can launch. */
    static Set<String> launchedKernels() {
        Set<String> names = new TreeSet<>();
        AttentionPlan plan = new AttentionPlan(256, 2);
        for (KernelWeightType type : KernelWeightType.values()) {
            names.add(Launch.embed(type, 1).kernel());
            names.add(Launch.matmul(type, 64, 1).kernel());
            names.add(Launch.matmul(type, 64, 64).kernel());
        }
        for (boolean f16 : new boolean[] {true, false}) {
            names.add(Launch.ropeStoreKv(f16, 1).kernel());
            names.add(Launch.attention(f16, 1, 1, plan).kernel());
        }
        names.add(Launch.rmsNorm(1).kernel());
        names.add(Launch.quantizeActivations(1, 32).kernel());
        names.add(Launch.attentionReduce(1, 1, 64).kernel());
        names.add(Launch.siluMul(1, 64).kernel());
        names.add(Launch.gatherRows(1).kernel());
        names.add(Launch.argmaxRows(1).kernel());
        names.add(Launch.sampleRows(1).kernel());
        return names;
    }

    @Test
    void kernels_javaLaunchesExactlyWhatTheHeaderDeclares() throws IOException {
        assertThat(launchedKernels()).isEqualTo(declaredKernels());
    }

    @Test
    void matmul_fewTokens_isAMatrixVectorLaunchOfOneWarpPerRowAndEightTokensPerBlockRow() {
        assertThat(Launch.matmul(KernelWeightType.Q8_0, 2050, 9)).isEqualTo(new Launch("matvec_q8_0", 513, 2, 1, 128));
        assertThat(Launch.matmul(KernelWeightType.F16, 4, 16)).isEqualTo(new Launch("matvec_f16", 1, 2, 1, 128));
    }

    @Test
    void matmul_manyTokens_isATensorCoreGemmOf128RowsBy64TokensTiles() {
        assertThat(Launch.matmul(KernelWeightType.BF16, 2048, 512)).isEqualTo(new Launch("gemm_bf16", 16, 8, 1, 256));
        assertThat(Launch.matmul(KernelWeightType.F16, 129, 17)).isEqualTo(new Launch("gemm_f16", 2, 1, 1, 256));
    }

    @Test
    void matmul_f32Weights_stayOnTheMatrixVectorKernel() {
        assertThat(Launch.matmul(KernelWeightType.F32, 64, 512).kernel()).isEqualTo("matvec_f32");
    }

    @Test
    void quantizeActivations_coversEvery32ValueBlockWithOneWarp() {
        // 3 tokens x 2048 values = 192 blocks of 32, 8 warps per 256-thread block -> 24 blocks
        assertThat(Launch.quantizeActivations(3, 2048).gridX()).isEqualTo(24);
        assertThat(Launch.quantizeActivations(1, 32).gridX()).isEqualTo(1);
    }

    @Test
    void attention_gridIsTokensByKvHeadsBySplits() {
        assertThat(Launch.attention(true, 3, 8, new AttentionPlan(512, 4)))
                .isEqualTo(new Launch("paged_attention_kvf16", 3, 8, 4, 128));
        assertThat(Launch.attentionReduce(3, 32, 128)).isEqualTo(new Launch("paged_attention_reduce", 3, 32, 1, 128));
    }

    @Test
    void new_blockOver1024Threads_isRefused() {
        assertThatThrownBy(() -> Launch.attentionReduce(1, 1, 2048)).isInstanceOf(IllegalArgumentException.class);
    }
}
