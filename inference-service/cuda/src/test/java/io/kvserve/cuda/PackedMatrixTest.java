package io.kvserve.cuda;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.GgmlType;
import io.kvserve.engine.model.WeightMatrix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PackedMatrixTest {

    private static float[] randomValues(int n, long seed) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * (i % 7 == 0 ? 4f : 1f);
        }
        return v;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void of_everyKernelType_readsBackTheFilesValuesExactly(GgmlType type) {
        int rows = 5;
        int cols = 96;
        WeightMatrix w = WeightMatrix.quantize(type, rows, cols, randomValues(rows * cols, type.ordinal()));
        float[] reference = new float[rows * cols];
        GgmlQuants.dequantize(type, w.data(), 0, reference, 0, rows * cols);

        PackedMatrix packed = PackedMatrix.of(w);

        assertThat(packed.type().name()).isEqualTo(type.name());
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                assertThat(packed.value(r, c)).as("(%d, %d)", r, c).isEqualTo(reference[r * cols + c]);
            }
        }
    }

    @Test
    void of_q8_0_splitsQuantsAndScalesIntoDenseArrays() {
        WeightMatrix w = WeightMatrix.quantize(GgmlType.Q8_0, 3, 64, randomValues(3 * 64, 7));
        PackedMatrix packed = PackedMatrix.of(w);
        assertThat(packed.values().byteSize()).isEqualTo(3 * 64);
        assertThat(packed.scales().byteSize()).isEqualTo(3 * 2 * 2);
        // block 1 of row 2 in the file: 34 bytes at (2 * 2 + 1) * 34, scale first, then 32 quants
        long block = (2 * 2 + 1) * 34L;
        assertThat(packed.scales().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, (2 * 2 + 1) * 2L))
                .isEqualTo(w.data().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, block));
        for (int j = 0; j < 32; j++) {
            assertThat(packed.values().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 2 * 64 + 32 + j))
                    .isEqualTo(w.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, block + 2 + j));
        }
    }

    @Test
    void of_unquantizedTypes_viewTheFileWithoutCopying() {
        WeightMatrix w = WeightMatrix.quantize(GgmlType.F16, 2, 32, randomValues(64, 3));
        assertThat(PackedMatrix.of(w).values().address()).isEqualTo(w.data().address());
    }

    @Test
    void of_kQuant_isRefusedWithTheBackendToUseInstead() {
        WeightMatrix w = WeightMatrix.quantize(GgmlType.Q6_K, 2, 256, randomValues(512, 5));
        assertThatThrownBy(() -> PackedMatrix.of(w))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Q6_K has no CUDA kernel")
                .hasMessageContaining("kvserve.engine.backend=cpu");
    }

    @Test
    void of_rowsNotAMultipleOf32_isRefused() {
        WeightMatrix w = WeightMatrix.quantize(GgmlType.F32, 2, 40, randomValues(80, 5));
        assertThatThrownBy(() -> PackedMatrix.of(w)).hasMessageContaining("multiple of 32");
    }
}
