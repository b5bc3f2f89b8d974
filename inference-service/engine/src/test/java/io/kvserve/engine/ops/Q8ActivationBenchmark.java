package io.kvserve.engine.ops;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.engine.model.WeightMatrix;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The choice behind {@link VectorTensorOps}'s Q8_0/Q4_0 kernels: llama.cpp's way (activations
 * quantized to int8 per 32-block once, integer products per block, one float scale per block,
 * {@code ggml_vec_dot_q8_0_q8_0}) against float dequantize-on-the-fly, one thread, one token,
 * 2048x2048. The int8 kernels live here, not in main: in JDK 25's Vector API there is no
 * int8 dot-product instruction (no VNNI {@code vpdpbusd}), so the int path widens
 * byte -> short -> int and loses (figures in inference-service/engine/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class Q8ActivationBenchmark {

    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Param({"Q8_0", "Q4_0"})
    public String type;

    private WeightMatrix w;
    private float[] x; // (rowLength)
    private byte[] xq; // (rowLength): x quantized per 32-block
    private float[] xd; // (rowLength / 32): block scales of xq
    private float[] out; // (numRows)

    @Setup(Level.Trial)
    public void setUp() {
        int n = 2048;
        Random random = new Random(1);
        float[] values = new float[n * n];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * 0.02f;
        }
        w = WeightMatrix.quantize(GgmlType.valueOf(type), n, n, values);
        x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        xq = new byte[n];
        xd = new float[n / 32];
        out = new float[n];
    }

    @Benchmark
    public float[] floatActivations() {
        long rowBytes = w.rowBytes();
        boolean q8 = w.type() == GgmlType.Q8_0;
        for (int r = 0; r < w.numRows(); r++) {
            out[r] = q8 ? VectorTensorOps.dotQ8_0(w.data(), r * rowBytes, x, w.rowLength())
                    : VectorTensorOps.dotQ4_0(w.data(), r * rowBytes, x, w.rowLength());
        }
        return out;
    }

    /** Includes quantizing x once per call, as a matmul would. */
    @Benchmark
    public float[] int8Activations() {
        quantizeQ8(x, xq, xd, w.rowLength());
        long rowBytes = w.rowBytes();
        boolean q8 = w.type() == GgmlType.Q8_0;
        for (int r = 0; r < w.numRows(); r++) {
            out[r] = q8 ? dotQ8_0Int8(w.data(), r * rowBytes, xq, xd, w.rowLength())
                    : dotQ4_0Int8(w.data(), r * rowBytes, xq, xd, w.rowLength());
        }
        return out;
    }

    static void quantizeQ8(float[] x, byte[] xq, float[] xd, int n) {
        for (int b = 0; b < n / 32; b++) {
            float amax = FloatVector.fromArray(F512, x, 32 * b).abs()
                    .max(FloatVector.fromArray(F512, x, 32 * b + 16).abs()).reduceLanes(VectorOperators.MAX);
            float d = amax / 127;
            float id = d != 0 ? 1 / d : 0;
            xd[b] = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                xq[32 * b + j] = (byte) Math.round(x[32 * b + j] * id);
            }
        }
    }

    static float dotQ8_0Int8(MemorySegment w, long offset, byte[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F512);
        long block = offset;
        for (int i = 0; i < n; i += 32, block += 34) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block)) * xd[i / 32];
            ShortVector ws = (ShortVector) ByteVector.fromMemorySegment(B256, w, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, S512, 0);
            ShortVector xs = (ShortVector) ByteVector.fromArray(B256, xq, i).convertShape(VectorOperators.B2S, S512, 0);
            ShortVector p = ws.mul(xs);
            IntVector sum = ((IntVector) p.convertShape(VectorOperators.S2I, I512, 0))
                    .add((IntVector) p.convertShape(VectorOperators.S2I, I512, 1));
            acc = ((FloatVector) sum.convertShape(VectorOperators.I2F, F512, 0)).fma(FloatVector.broadcast(F512, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotQ4_0Int8(MemorySegment w, long offset, byte[] xq, float[] xd, int n) {
        FloatVector acc = FloatVector.zero(F512);
        long block = offset;
        for (int i = 0; i < n; i += 32, block += 18) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block)) * xd[i / 32];
            ByteVector q = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, block + 2, ByteOrder.LITTLE_ENDIAN);
            ShortVector lo = (ShortVector) q.and((byte) 0xF).sub((byte) 8).convertShape(VectorOperators.B2S, ShortVector.SPECIES_256, 0);
            ShortVector hi = (ShortVector) q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8)
                    .convertShape(VectorOperators.B2S, ShortVector.SPECIES_256, 0);
            ShortVector xlo = (ShortVector) ByteVector.fromArray(ByteVector.SPECIES_128, xq, i)
                    .convertShape(VectorOperators.B2S, ShortVector.SPECIES_256, 0);
            ShortVector xhi = (ShortVector) ByteVector.fromArray(ByteVector.SPECIES_128, xq, i + 16)
                    .convertShape(VectorOperators.B2S, ShortVector.SPECIES_256, 0);
            ShortVector p = lo.mul(xlo).add(hi.mul(xhi)); // |8 * 127 * 2| fits a short
            IntVector sum = (IntVector) p.convertShape(VectorOperators.S2I, I512, 0);
            acc = ((FloatVector) sum.convertShape(VectorOperators.I2F, F512, 0)).fma(FloatVector.broadcast(F512, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
