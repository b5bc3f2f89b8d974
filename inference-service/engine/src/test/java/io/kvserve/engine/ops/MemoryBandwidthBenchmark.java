package io.kvserve.engine.ops;

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

import java.util.concurrent.TimeUnit;

/**
 * The machine's read bandwidth, the ceiling of a decode matmul: a vector sum over an off-heap
 * buffer much larger than the caches ({@link MemoryBandwidthProbe}), split over the same
 * {@link WorkerPool} the kernels use.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class MemoryBandwidthBenchmark {

    @Param({"512"})
    public int megabytes;

    @Param({"1", "2"})
    public int threads;

    private MemoryBandwidthProbe probe;

    @Setup(Level.Trial)
    public void setUp() {
        probe = new MemoryBandwidthProbe(threads, (long) megabytes * 1_000_000);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        probe.close();
    }

    @Benchmark
    public float sum() {
        return probe.sumOnce();
    }
}
