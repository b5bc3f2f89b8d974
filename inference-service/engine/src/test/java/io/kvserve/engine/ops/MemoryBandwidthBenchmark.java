package io.kvserve.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * The machine's read bandwidth, the ceiling of a decode matmul: a vector sum over an off-heap
 * buffer much larger than the caches, split over the same {@link WorkerPool} the kernels use.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class MemoryBandwidthBenchmark {

    private static final int CHUNK_BYTES = 1 << 16;

    @Param({"512"})
    public int megabytes;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment data; // (megabytes * 1e6 / 4) floats
    private WorkerPool pool;
    private float[] partial; // (threads): each thread's sum
    private WorkerPool.RangeKernel sumChunks;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        data = arena.allocate((long) megabytes * 1_000_000 / CHUNK_BYTES * CHUNK_BYTES, 64);
        data.fill((byte) 1);
        pool = new WorkerPool(threads);
        partial = new float[threads];
        sumChunks = (start, end, threadIndex) -> {
            FloatVector acc0 = FloatVector.zero(VectorTensorOps.F);
            FloatVector acc1 = FloatVector.zero(VectorTensorOps.F);
            int step = VectorTensorOps.F.vectorByteSize();
            for (long off = (long) start * CHUNK_BYTES; off < (long) end * CHUNK_BYTES; off += 2L * step) {
                acc0 = acc0.add(FloatVector.fromMemorySegment(VectorTensorOps.F, data, off, ByteOrder.LITTLE_ENDIAN));
                acc1 = acc1.add(FloatVector.fromMemorySegment(VectorTensorOps.F, data, off + step, ByteOrder.LITTLE_ENDIAN));
            }
            partial[threadIndex] = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float sum() {
        pool.parallelFor((int) (data.byteSize() / CHUNK_BYTES), sumChunks);
        float s = 0;
        for (float p : partial) {
            s += p;
        }
        return s;
    }
}
