package io.kvserve.engine.sample;

import java.util.Random;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link SequenceSampler#sample} over a Llama-3 vocabulary (128256), one token per op, including the
 * copy of the row into the scratch row the engine would pass. Rows are Gaussian with sd 2.5 (8 of
 * them, cycled), so top-p 0.9 keeps about 11% of the vocabulary. Not a test; from the engine
 * module, after the engine README's build and classpath steps:
 * <pre>
 * $JAVA_HOME/bin/java --add-modules jdk.incubator.vector \
 *     -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) \
 *     org.openjdk.jmh.Main SamplerBenchmark -wi 2 -i 3 -w 1 -r 1
 * </pre>
 * On a machine shared with other builds JMH's wall-clock times swing with the load; {@link #main}
 * (same classpath, class {@code io.kvserve.engine.sample.SamplerBenchmark}) instead reports, per
 * configuration, the best of 10 rounds of 300 tokens in thread CPU time after 3000 tokens of warm-up.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class SamplerBenchmark {

    private static final int VOCAB_SIZE = 128_256;

    @Param({"greedy", "greedy-penalties", "greedy-logprobs5", "t1", "t1-topk50", "t1-topp0.9", "t07-topk50-topp0.9-minp0.05"})
    public String config;

    private float[][] rows;   // (8, VOCAB_SIZE)
    private float[] scratch;  // (VOCAB_SIZE)
    private SequenceSampler sampler;
    private int step;

    @Setup(Level.Trial)
    public void setUp() {
        Random random = new Random(1);
        rows = new float[8][VOCAB_SIZE];
        for (float[] row : rows) {
            for (int i = 0; i < VOCAB_SIZE; i++) {
                row[i] = (float) (random.nextGaussian() * 2.5);
            }
        }
        scratch = new float[VOCAB_SIZE];
        SamplingParams.Builder params = SamplingParams.builder().maxTokens(Integer.MAX_VALUE).seed(1);
        switch (config) {
            case "greedy" -> { }
            case "greedy-penalties" -> params.repetitionPenalty(1.1).presencePenalty(0.5).frequencyPenalty(0.5);
            case "greedy-logprobs5" -> params.logprobs(5);
            case "t1" -> params.temperature(1);
            case "t1-topk50" -> params.temperature(1).topK(50);
            case "t1-topp0.9" -> params.temperature(1).topP(0.9);
            case "t07-topk50-topp0.9-minp0.05" -> params.temperature(0.7).topK(50).topP(0.9).minP(0.05);
            default -> throw new IllegalArgumentException(config);
        }
        sampler = new SequenceSampler(params.build(), new int[512], VOCAB_SIZE, 2, 0);
    }

    @Benchmark
    public SampledToken sample() {
        System.arraycopy(rows[step++ & 7], 0, scratch, 0, VOCAB_SIZE);
        return sampler.sample(scratch, 0);
    }

    /** Thread-CPU-time figures per configuration (see the class comment). */
    public static void main(String[] args) throws Exception {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        String[] configs = SamplerBenchmark.class.getField("config").getAnnotation(Param.class).value();
        long sink = 0;
        for (String config : configs) {
            SamplerBenchmark benchmark = new SamplerBenchmark();
            benchmark.config = config;
            benchmark.setUp();
            for (int i = 0; i < 3000; i++) {
                sink += benchmark.sample().tokenId();
            }
            double bestMicros = Double.MAX_VALUE;
            for (int round = 0; round < 10; round++) {
                long start = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < 300; i++) {
                    sink += benchmark.sample().tokenId();
                }
                bestMicros = Math.min(bestMicros, (threads.getCurrentThreadCpuTime() - start) / 1e3 / 300);
            }
            System.out.printf("%-30s %8.1f us/token%n", config, bestMicros);
        }
        System.out.println("(checksum " + sink + ")");
    }
}
