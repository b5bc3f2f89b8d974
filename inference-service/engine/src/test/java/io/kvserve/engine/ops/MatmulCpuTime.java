package io.kvserve.engine.ops;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.engine.model.WeightMatrix;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

/**
 * One matmul shape timed in thread CPU time on one thread: the figure holds on a machine shared
 * with other work, where JMH's wall-clock figures swing 2-5x. Not a test: a tool.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp TEST_CLASSPATH io.kvserve.engine.ops.MatmulCpuTime TYPE ROWS ROW_LENGTH TOKENS
 *   e.g. ... MatmulCpuTime Q8_0 2048 2048 64
 * </pre>
 * Prints, for 8 one-second rounds, the CPU microseconds per call and GFLOP/s (2 x rows x rowLength
 * x tokens per call). Random Gaussian weights quantized to TYPE, random activations.
 */
public final class MatmulCpuTime {

    private MatmulCpuTime() {
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: MatmulCpuTime TYPE ROWS ROW_LENGTH TOKENS");
            System.exit(2);
        }
        GgmlType type = GgmlType.valueOf(args[0]);
        int numRows = Integer.parseInt(args[1]);
        int rowLength = Integer.parseInt(args[2]);
        int numTokens = Integer.parseInt(args[3]);
        Random random = new Random(1);
        WeightMatrix w = WeightMatrix.quantize(type, numRows, rowLength,
                VectorTensorOpsTest.gaussian(random, numRows * rowLength, 1f));
        float[] x = VectorTensorOpsTest.gaussian(random, numTokens * rowLength, 1f);
        float[] out = new float[numTokens * numRows];
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        try (VectorTensorOps ops = new VectorTensorOps(1)) {
            for (int round = 0; round < 8; round++) {
                long cpuStart = cpu.getCurrentThreadCpuTime();
                long wallStart = System.nanoTime();
                int calls = 0;
                while (System.nanoTime() - wallStart < 1_000_000_000L) {
                    ops.matmul(w, x, numTokens, out);
                    calls++;
                }
                double nanosPerCall = (cpu.getCurrentThreadCpuTime() - cpuStart) / (double) calls;
                System.out.printf("%s %dx%d, %d tokens: %.0f us CPU per call, %.1f GFLOP/s%n", type, numRows, rowLength,
                        numTokens, nanosPerCall / 1e3, 2.0 * numRows * rowLength * numTokens / nanosPerCall);
            }
        }
    }
}
