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
 * them, cycled), so top-p 0.9 keeps about 11% of the vocabulary. Not a test; run it as the engine
 * README runs {@code MatmulBenchmark}, with this class name:
 * <pre>
 * $JAVA_HOME/bin/java --add-modules jdk.incubator.vector \
 *     -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) \
 *     org.openjdk.jmh.Main SamplerBenchmark -wi 2 -i 3 -w 1 -r 1
 * </pre>
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
}
