package io.kvserve.engine.model;

import io.kvserve.common.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightMatrixTest {

    @Test
    void quantize_q4_0_sizesRowsInBlocks() {
        WeightMatrix w = WeightMatrix.quantize(GgmlType.Q4_0, 3, 64, new float[192]);
        assertThat(w.rowBytes()).isEqualTo(2 * 18);
        assertThat(w.data().byteSize()).isEqualTo(3 * 36);
        assertThat(w.data().isNative()).isTrue();
    }

    @Test
    void constructor_rowLengthNotWholeBlocks_rejectedWithShape() {
        assertThatThrownBy(() -> new WeightMatrix(GgmlType.Q8_0, 2, 40, MemorySegment.ofArray(new byte[100])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(2, 40)").hasMessageContaining("32");
    }

    @Test
    void constructor_wrongByteCount_rejected() {
        assertThatThrownBy(() -> new WeightMatrix(GgmlType.F16, 2, 4, MemorySegment.ofArray(new byte[15])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 16");
    }

    @Test
    void constructor_typeWithoutKernel_rejected() {
        assertThatThrownBy(() -> new WeightMatrix(GgmlType.Q5_K, 1, 256, MemorySegment.ofArray(new byte[176])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q5_K");
    }
}
