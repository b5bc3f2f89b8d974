package io.kvserve.engine.ops;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The machine's read bandwidth, the ceiling of a decode step (which streams every weight once): a
 * vector sum over an off-heap buffer much larger than the caches, split over a {@link WorkerPool}
 * the way the matmul kernels split rows. {@code bin/kvserve bench} reports decode as a fraction of
 * it; the JMH {@code MemoryBandwidthBenchmark} times the same {@link #sumOnce()}.
 */
public final class MemoryBandwidthProbe implements AutoCloseable {

    private static final int CHUNK_BYTES = 1 << 16;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment data; // (numBytes): all ones
    private final WorkerPool pool;
    private final float[] partial; // (numThreads): each thread's sum
    private final WorkerPool.RangeKernel sumChunks = this::sumChunks;

    /** A buffer of about {@code numBytes} (rounded down to 64 KiB chunks) read by {@code numThreads} threads. */
    public MemoryBandwidthProbe(int numThreads, long numBytes) {
        long size = Math.max(CHUNK_BYTES, numBytes / CHUNK_BYTES * CHUNK_BYTES);
        data = arena.allocate(size, 64);
        data.fill((byte) 1);
        pool = new WorkerPool(numThreads);
        partial = new float[numThreads];
    }

    public long numBytes() {
        return data.byteSize();
    }

    /** Reads the whole buffer once; returns the sum so the reads cannot be optimised away. */
    public float sumOnce() {
        pool.parallelFor((int) (data.byteSize() / CHUNK_BYTES), sumChunks);
        float sum = 0;
        for (float p : partial) {
            sum += p;
        }
        return sum;
    }

    /** Median read bandwidth over {@code numRepetitions} full reads, after one warm-up read, in GB/s (1e9 bytes). */
    public double medianGigabytesPerSecond(int numRepetitions) {
        float sink = sumOnce();
        double[] rates = new double[numRepetitions];
        for (int i = 0; i < numRepetitions; i++) {
            long start = System.nanoTime();
            sink += sumOnce();
            rates[i] = data.byteSize() / (double) (System.nanoTime() - start);
        }
        if (Float.isNaN(sink)) {
            throw new AssertionError("sum of ones is NaN");
        }
        Arrays.sort(rates);
        return rates[numRepetitions / 2];
    }

    private void sumChunks(int start, int end, int threadIndex) {
        FloatVector acc0 = FloatVector.zero(VectorTensorOps.F);
        FloatVector acc1 = FloatVector.zero(VectorTensorOps.F);
        int step = VectorTensorOps.F.vectorByteSize();
        for (long off = (long) start * CHUNK_BYTES; off < (long) end * CHUNK_BYTES; off += 2L * step) {
            acc0 = acc0.add(FloatVector.fromMemorySegment(VectorTensorOps.F, data, off, ByteOrder.LITTLE_ENDIAN));
            acc1 = acc1.add(FloatVector.fromMemorySegment(VectorTensorOps.F, data, off + step, ByteOrder.LITTLE_ENDIAN));
        }
        partial[threadIndex] = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void close() {
        pool.close();
        arena.close();
    }
}
