package io.kvserve.engine.sample;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The O(vocabulary) loops of sampling on the Vector API, each beside its scalar reference. One
 * {@code exp} per token dominates a random draw or a logprob over a 128k vocabulary: scalar
 * {@code Math.exp} costs about 5 ns, so about 0.65 ms a row; the lane-wise EXP (SVML on x86) is
 * several times faster.
 *
 * <p>Sums are kept in float lanes for {@value #BLOCK} elements at a time (at most 128 additions per
 * lane) and then added into a double, so a 128k row accumulates no more float error than a 1k one:
 * relative 1e-5 at the very worst, about 1e-7 in practice, which the logprob tolerance of 1e-5 needs.
 */
final class SampleKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Elements summed in float lanes before the partial sum moves into a double. */
    static final int BLOCK = 1024;

    private SampleKernels() {
    }

    /** The largest of {@code x[offset .. offset + n)}; -inf when n is 0. */
    static float max(float[] x, int offset, int n) {
        int i = 0;
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int bound = F.loopBound(n); i < bound; i += L) {
            maxV = maxV.max(FloatVector.fromArray(F, x, offset + i));
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        return max;
    }

    /**
     * The first i in {@code from..n} with {@code x[offset + i] > threshold}, or n. Lets a scan that
     * rarely acts (top-k heap, top-N logprobs) skip a vector of non-candidates with one compare.
     */
    static int nextAbove(float[] x, int offset, int from, int n, float threshold) {
        int i = from;
        for (int bound = from + F.loopBound(n - from); i < bound; i += L) {
            if (FloatVector.fromArray(F, x, offset + i).compare(VectorOperators.GT, threshold).anyTrue()) {
                break;
            }
        }
        for (; i < n; i++) {
            if (x[offset + i] > threshold) {
                return i;
            }
        }
        return n;
    }

    /** The first i in {@code from..n} with {@code x[offset + i] >= threshold}, or n. */
    static int nextAtLeast(float[] x, int offset, int from, int n, float threshold) {
        int i = from;
        for (int bound = from + F.loopBound(n - from); i < bound; i += L) {
            if (FloatVector.fromArray(F, x, offset + i).compare(VectorOperators.GE, threshold).anyTrue()) {
                break;
            }
        }
        for (; i < n; i++) {
            if (x[offset + i] >= threshold) {
                return i;
            }
        }
        return n;
    }

    /** {@code sum(exp(x[i] - max))} over {@code x[offset .. offset + n)}, in double. */
    static double sumExp(float[] x, int offset, int n, float max) {
        double sum = 0;
        int i = 0;
        int bound = F.loopBound(n);
        while (i < bound) {
            int blockEnd = Math.min(bound, i + BLOCK);
            FloatVector sumV = FloatVector.zero(F);
            for (; i < blockEnd; i += L) {
                sumV = sumV.add(FloatVector.fromArray(F, x, offset + i).sub(max).lanewise(VectorOperators.EXP));
            }
            sum += sumV.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += Math.exp((double) x[offset + i] - max);
        }
        return sum;
    }

    static double sumExpScalar(float[] x, int offset, int n, float max) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp((double) x[offset + i] - max);
        }
        return sum;
    }

    /**
     * {@code weights[i] = exp((x[offset + i] - max) / temperature)} for i in 0..n; returns their sum in
     * double. Dividing the difference rather than each logit is vLLM's {@code logits / T} followed by a
     * max-shifted softmax, up to rounding.
     */
    static double expScaled(float[] x, int offset, int n, float max, float temperature, float[] weights) {
        double sum = 0;
        int i = 0;
        int bound = F.loopBound(n);
        while (i < bound) {
            int blockEnd = Math.min(bound, i + BLOCK);
            FloatVector sumV = FloatVector.zero(F);
            for (; i < blockEnd; i += L) {
                FloatVector w = FloatVector.fromArray(F, x, offset + i).sub(max).div(temperature)
                        .lanewise(VectorOperators.EXP);
                w.intoArray(weights, i);
                sumV = sumV.add(w);
            }
            sum += sumV.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float w = (float) Math.exp((x[offset + i] - max) / temperature);
            weights[i] = w;
            sum += w;
        }
        return sum;
    }

    static double expScaledScalar(float[] x, int offset, int n, float max, float temperature, float[] weights) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float w = (float) Math.exp((x[offset + i] - max) / temperature);
            weights[i] = w;
            sum += w;
        }
        return sum;
    }
}
