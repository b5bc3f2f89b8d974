package io.kvserve.engine.ops;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.engine.model.WeightMatrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.util.Collection;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@link VectorTensorOps#matmul} per weight type at decode (1 token) and prefill (64 tokens)
 * shapes of a 1B-class model: 2048x2048 (wq, wo) and 8192x2048 (w1, w3: 8192 rows of 2048).
 * Not a test; run it with {@link #main}, which prints GB/s of weight bytes and GFLOP/s beside
 * JMH's times (see inference-service/engine/README.md for the command).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g"})
public class MatmulBenchmark {

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String type;

    /** numRows x rowLength. */
    @Param({"2048x2048", "8192x2048"})
    public String shape;

    @Param({"1", "64"})
    public int numTokens;

    @Param({"1", "2"})
    public int threads;

    private VectorTensorOps ops;
    private WeightMatrix w;
    private float[] x; // (numTokens, rowLength)
    private float[] out; // (numTokens, numRows)

    @Setup(Level.Trial)
    public void setUp() {
        int numRows = Integer.parseInt(shape.substring(0, shape.indexOf('x')));
        int rowLength = Integer.parseInt(shape.substring(shape.indexOf('x') + 1));
        Random random = new Random(1);
        float[] values = new float[numRows * rowLength];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * 0.02f;
        }
        w = WeightMatrix.quantize(GgmlType.valueOf(type), numRows, rowLength, values);
        x = new float[numTokens * rowLength];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        out = new float[numTokens * numRows];
        ops = new VectorTensorOps(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ops.close();
    }

    @Benchmark
    public float[] matmul() {
        ops.matmul(w, x, numTokens, out);
        return out;
    }

    /**
     * Runs the benchmarks (JMH command-line options accepted, e.g. {@code -p type=Q4_0}) and prints
     * weight GB/s and GFLOP/s per configuration.
     */
    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli);
        if (cli.getIncludes().isEmpty()) {
            builder.include(MatmulBenchmark.class.getSimpleName() + "|" + MemoryBandwidthBenchmark.class.getSimpleName());
        }
        Collection<RunResult> results = new Runner(builder.build()).run();
        System.out.printf("%n%-6s %-10s %6s %7s %12s %9s %9s%n", "type", "shape", "tokens", "threads", "us/op",
                "GB/s", "GFLOP/s");
        for (RunResult result : results) {
            var params = result.getParams();
            double micros = result.getPrimaryResult().getScore();
            if (params.getParam("type") == null) {
                double gib = Double.parseDouble(params.getParam("megabytes")) * 1e6;
                System.out.printf("%-6s %-10s %6s %7s %12.1f %9.2f %9s%n", "read", params.getParam("megabytes") + "MB",
                        "-", params.getParam("threads"), micros, gib / (micros * 1e3), "-");
                continue;
            }
            String shape = params.getParam("shape");
            long numRows = Long.parseLong(shape.substring(0, shape.indexOf('x')));
            long rowLength = Long.parseLong(shape.substring(shape.indexOf('x') + 1));
            int numTokens = Integer.parseInt(params.getParam("numTokens"));
            GgmlType t = GgmlType.valueOf(params.getParam("type"));
            double bytes = (double) t.byteSize(rowLength) * numRows;
            double flops = 2.0 * numRows * rowLength * numTokens;
            System.out.printf("%-6s %-10s %6d %7s %12.1f %9.2f %9.2f%n", t, shape, numTokens,
                    params.getParam("threads"), micros, bytes / (micros * 1e3), flops / (micros * 1e3));
        }
    }
}
