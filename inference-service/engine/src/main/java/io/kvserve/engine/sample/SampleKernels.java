package io.kvserve.engine.sample;

import java.util.Arrays;
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
        // four accumulators: one chain would wait out the max latency on every vector
        FloatVector max0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector max1 = max0;
        FloatVector max2 = max0;
        FloatVector max3 = max0;
        for (int bound = n - 4 * L; i <= bound; i += 4 * L) {
            max0 = max0.max(FloatVector.fromArray(F, x, offset + i));
            max1 = max1.max(FloatVector.fromArray(F, x, offset + i + L));
            max2 = max2.max(FloatVector.fromArray(F, x, offset + i + 2 * L));
            max3 = max3.max(FloatVector.fromArray(F, x, offset + i + 3 * L));
        }
        for (int bound = F.loopBound(n); i < bound; i += L) {
            max0 = max0.max(FloatVector.fromArray(F, x, offset + i));
        }
        float max = max0.max(max1).max(max2).max(max3).reduceLanes(VectorOperators.MAX);
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

    /** The first i in {@code from..n} with {@code lo <= x[i] < hi}, or n. */
    static int nextInRange(float[] x, int from, int n, float lo, float hi) {
        int i = from;
        for (int bound = from + F.loopBound(n - from); i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            if (v.compare(VectorOperators.GE, lo).and(v.compare(VectorOperators.LT, hi)).anyTrue()) {
                break;
            }
        }
        for (; i < n; i++) {
            if (x[i] >= lo && x[i] < hi) {
                return i;
            }
        }
        return n;
    }

    /**
     * Zeroes the weights below {@code threshold} in {@code weights[0..n)}, refills the per-block sums
     * the way {@link #expScaled} does and returns the new total.
     */
    static double keepAtLeast(float[] weights, int n, float threshold, double[] blockSums) {
        Arrays.fill(blockSums, 0, numBlocks(n), 0);
        FloatVector zero = FloatVector.zero(F);
        double sum = 0;
        int i = 0;
        int bound = F.loopBound(n);
        while (i < bound) {
            int block = i / BLOCK;
            int blockEnd = Math.min(bound, i + BLOCK);
            FloatVector sumV = zero;
            for (; i < blockEnd; i += L) {
                FloatVector w = FloatVector.fromArray(F, weights, i);
                w = w.blend(zero, w.compare(VectorOperators.LT, threshold));
                w.intoArray(weights, i);
                sumV = sumV.add(w);
            }
            float blockSum = sumV.reduceLanes(VectorOperators.ADD);
            blockSums[block] = blockSum;
            sum += blockSum;
        }
        for (; i < n; i++) {
            float w = weights[i] < threshold ? 0f : weights[i];
            weights[i] = w;
            blockSums[i / BLOCK] += w;
            sum += w;
        }
        return sum;
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
    static double expScaled(float[] x, int offset, int n, float max, float temperature, float[] weights,
            double[] blockSums) {
        Arrays.fill(blockSums, 0, numBlocks(n), 0);
        double sum = 0;
        int i = 0;
        int bound = F.loopBound(n);
        while (i < bound) {
            int block = i / BLOCK;
            int blockEnd = Math.min(bound, i + BLOCK);
            FloatVector sumV = FloatVector.zero(F);
            for (; i < blockEnd; i += L) {
                FloatVector w = FloatVector.fromArray(F, x, offset + i).sub(max).div(temperature)
                        .lanewise(VectorOperators.EXP);
                w.intoArray(weights, i);
                sumV = sumV.add(w);
            }
            float blockSum = sumV.reduceLanes(VectorOperators.ADD);
            blockSums[block] = blockSum;
            sum += blockSum;
        }
        for (; i < n; i++) {
            float w = (float) Math.exp((x[offset + i] - max) / temperature);
            weights[i] = w;
            blockSums[i / BLOCK] += w;
            sum += w;
        }
        return sum;
    }

    /** The number of {@value #BLOCK}-element blocks covering n elements. */
    static int numBlocks(int n) {
        return (n + BLOCK - 1) / BLOCK;
    }

    /**
     * The token a draw {@code u} in [0, mass) lands on, walking the block sums that
     * {@link #expScaled} left and then one block: the first i whose cumulative weight exceeds u,
     * skipping zero weights; the last positive weight when rounding leaves u at the very end.
     */
    static int drawBlocked(float[] weights, int n, double[] blockSums, double u) {
        int numBlocks = numBlocks(n);
        double cumulative = 0;
        int block = 0;
        while (block < numBlocks - 1 && cumulative + blockSums[block] <= u) {
            cumulative += blockSums[block++];
        }
        int lastPositive = -1;
        for (int i = block * BLOCK, end = Math.min(n, i + BLOCK); i < end; i++) {
            float w = weights[i];
            if (w > 0) {
                cumulative += w;
                lastPositive = i;
                if (u < cumulative) {
                    return i;
                }
            }
        }
        if (lastPositive >= 0) {
            return lastPositive;
        }
        for (int i = n - 1; i >= 0; i--) { // u at the end and this block all zero: rounding only
            if (weights[i] > 0) {
                return i;
            }
        }
        return 0;
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
