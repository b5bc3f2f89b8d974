package io.kvserve.engine.ops;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.GgmlType;
import io.kvserve.engine.model.WeightMatrix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The int8-activation kernels the benchmark times must compute the right thing for the comparison to mean anything. */
class Q8ActivationBenchmarkTest {

    /**
     * Tolerance: quantizing x per 32-block to q * d16 (d = amax/127 stored as f16) errs by at most
     * d/2 + 127 |d - d16| <= amax (1/254 + 1/2048) per element, so the dot product errs by
     * sum over blocks of amax_b * (1/254 + 1/2048) * sum_{j in b} |w_j|, plus float summation
     * (gamma_n sum |w_j x_j|).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0"})
    void int8Dot_randomRows_withinActivationQuantizationBound(GgmlType type) {
        Random random = new Random(5);
        int n = 1024;
        int numRows = 6;
        WeightMatrix w = WeightMatrix.quantize(type, numRows, n, VectorTensorOpsTest.gaussian(random, numRows * n, 1f));
        float[] x = VectorTensorOpsTest.gaussian(random, n, 3f);
        byte[] xq = new byte[n];
        float[] xd = new float[n / 32];
        Q8ActivationBenchmark.quantizeQ8(x, xq, xd, n);
        float[] decoded = new float[numRows * n];
        GgmlQuants.dequantize(type, w.data(), 0, decoded, 0, decoded.length);
        for (int r = 0; r < numRows; r++) {
            double exact = 0;
            double bound = 0;
            double sumAbs = 0;
            for (int b = 0; b < n / 32; b++) {
                double amax = 0;
                double sumAbsW = 0;
                for (int j = 32 * b; j < 32 * b + 32; j++) {
                    amax = Math.max(amax, Math.abs(x[j]));
                    sumAbsW += Math.abs(decoded[r * n + j]);
                    exact += (double) decoded[r * n + j] * x[j];
                    sumAbs += Math.abs((double) decoded[r * n + j] * x[j]);
                }
                bound += amax * (1.0 / 254 + 1.0 / 2048) * sumAbsW;
            }
            bound += (n + 4) * 0x1p-24 * sumAbs * 2;
            long offset = r * w.rowBytes();
            float actual = type == GgmlType.Q8_0
                    ? Q8ActivationBenchmark.dotQ8_0Int8(w.data(), offset, xq, xd, n)
                    : Q8ActivationBenchmark.dotQ4_0Int8(w.data(), offset, xq, xd, n);
            assertThat((double) actual).as("row %d", r).isCloseTo(exact, within(bound));
        }
    }
}
