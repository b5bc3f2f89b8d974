package io.kvserve.engine.model;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufTensorInfo;
import io.kvserve.common.gguf.GgufWriter;
import io.kvserve.engine.ops.ScalarTensorOps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightMatrixTest {

    @Test
    void of_ggufTensor_viewsMappedBytesWithoutCopy(@TempDir Path dir) throws Exception {
        float[] values = new float[4 * 64]; // (4, 64)
        for (int i = 0; i < values.length; i++) {
            values[i] = (i % 13) - 6;
        }
        Path path = dir.resolve("w.gguf");
        new GgufWriter().putString("general.architecture", "llama")
                .addTensor("blk.0.attn_q.weight", GgmlType.Q8_0, new long[] {64, 4}, values).write(path);
        try (GgufFile file = GgufFile.open(path)) {
            GgufTensorInfo info = file.tensor("blk.0.attn_q.weight").orElseThrow();
            WeightMatrix w = WeightMatrix.of(file, info);
            assertThat(w.type()).isEqualTo(GgmlType.Q8_0);
            assertThat(w.numRows()).isEqualTo(4);
            assertThat(w.rowLength()).isEqualTo(64);
            assertThat(w.data().address()).isEqualTo(file.data(info).address());
            float[] x = new float[64];
            x[10] = 1f;
            float[] out = new float[4];
            new ScalarTensorOps().matmul(w, x, 1, out);
            float[] decoded = new float[values.length];
            GgmlQuants.dequantize(GgmlType.Q8_0, w.data(), 0, decoded, 0, decoded.length);
            assertThat(out).containsExactly(decoded[10], decoded[74], decoded[138], decoded[202]);
        }
    }

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
