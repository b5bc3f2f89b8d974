package io.kvserve.engine.ops;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.PagedKvCache;
import io.kvserve.engine.model.WeightMatrix;

/**
 * The reference kernels: plain loops, double accumulation, weights decoded row by row with
 * {@link GgmlQuants}. Obviously correct rather than fast; the control every fast kernel is tested
 * against. It allocates a row buffer per matmul call, which is fine for a reference.
 */
public final class ScalarTensorOps implements TensorOps {

    @Override
    public void matmul(WeightMatrix w, float[] x, int numTokens, float[] out) {
        int n = w.rowLength();
        checkMatmul(w, x, numTokens, out);
        float[] row = new float[n]; // (rowLength): the decoded weight row
        for (int r = 0; r < w.numRows(); r++) {
            GgmlQuants.dequantize(w.type(), w.data(), r * w.rowBytes(), row, 0, n);
            for (int t = 0; t < numTokens; t++) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    sum += (double) row[i] * x[t * n + i];
                }
                out[t * w.numRows() + r] = (float) sum;
            }
        }
    }

    static void checkMatmul(WeightMatrix w, float[] x, int numTokens, float[] out) {
        if (numTokens < 0 || x.length < (long) numTokens * w.rowLength()
                || out.length < (long) numTokens * w.numRows()) {
            throw new IllegalArgumentException("matmul of (" + w.numRows() + ", " + w.rowLength() + ") by "
                    + numTokens + " tokens needs x >= " + (long) numTokens * w.rowLength() + " and out >= "
                    + (long) numTokens * w.numRows() + ", got " + x.length + " and " + out.length);
        }
    }

    @Override
    public void rmsNorm(float[] out, float[] x, float[] weight, int numTokens, int dim, float eps) {
        for (int t = 0; t < numTokens; t++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                ss += (double) x[t * dim + i] * x[t * dim + i];
            }
            double scale = 1.0 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) {
                out[t * dim + i] = (float) (x[t * dim + i] * scale * weight[i]);
            }
        }
    }

    @Override
    public void rope(float[] x, int numTokens, int numHeads, int headDim, int[] positions, RopeFrequencies freqs,
                     RopeLayout layout) {
        int half = headDim / 2;
        for (int t = 0; t < numTokens; t++) {
            for (int h = 0; h < numHeads; h++) {
                int base = (t * numHeads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    double angle = (double) positions[t] * freqs.inverseFrequency(i);
                    double cos = Math.cos(angle);
                    double sin = Math.sin(angle);
                    int a = layout == RopeLayout.INTERLEAVED_PAIRS ? base + 2 * i : base + i;
                    int b = layout == RopeLayout.INTERLEAVED_PAIRS ? a + 1 : a + half;
                    double x0 = x[a];
                    double x1 = x[b];
                    x[a] = (float) (x0 * cos - x1 * sin);
                    x[b] = (float) (x0 * sin + x1 * cos);
                }
            }
        }
    }

    @Override
    public void siluMul(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            double g = gate[i];
            gate[i] = (float) (g / (1 + Math.exp(-g)) * up[i]);
        }
    }

    @Override
    public void softmax(float[] x, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[offset + i] - max);
        }
        for (int i = 0; i < n; i++) {
            x[offset + i] = (float) (Math.exp(x[offset + i] - max) / sum);
        }
    }

    /** Two passes per (token, head) in double: scores and their softmax, then the weighted values. */
    @Override
    public void attention(float[] out, float[] q, int numTokens, int[] positions, int[] tokenSeqs, int[][] blockTables,
                          PagedKvCache cache, int layer, int numHeads, int headDim, float scale) {
        int kvDim = cache.kvDim();
        int blockSize = cache.blockSize();
        int group = numHeads / (kvDim / headDim);
        for (int t = 0; t < numTokens; t++) {
            int[] blockTable = blockTables[tokenSeqs[t]];
            int numPositions = positions[t] + 1;
            double[] scores = new double[numPositions];
            for (int h = 0; h < numHeads; h++) {
                int qOffset = (t * numHeads + h) * headDim;
                int kvHeadOffset = (h / group) * headDim;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < numPositions; j++) {
                    int slot = slot(blockTable, j, blockSize);
                    double dot = 0;
                    for (int i = 0; i < headDim; i++) {
                        dot += (double) q[qOffset + i] * key(cache, layer, cache.keyIndex(slot, kvHeadOffset + i));
                    }
                    scores[j] = dot * scale;
                    max = Math.max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j < numPositions; j++) {
                    scores[j] = Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int i = 0; i < headDim; i++) {
                    double acc = 0;
                    for (int j = 0; j < numPositions; j++) {
                        acc += scores[j] * value(cache, layer, slot(blockTable, j, blockSize) * kvDim + kvHeadOffset + i);
                    }
                    out[qOffset + i] = (float) (acc / sum);
                }
            }
        }
    }

    static int slot(int[] blockTable, int position, int blockSize) {
        return blockTable[position / blockSize] * blockSize + position % blockSize;
    }

    private static float key(PagedKvCache cache, int layer, int index) {
        return cache.dtype() == KvCacheDtype.F32 ? cache.keysF32(layer)[index]
                : Float.float16ToFloat(cache.keysF16(layer)[index]);
    }

    private static float value(PagedKvCache cache, int layer, int index) {
        return cache.dtype() == KvCacheDtype.F32 ? cache.valuesF32(layer)[index]
                : Float.float16ToFloat(cache.valuesF16(layer)[index]);
    }

    @Override
    public void add(float[] dst, float[] src, int n) {
        for (int i = 0; i < n; i++) {
            dst[i] += src[i];
        }
    }

    @Override
    public int argmax(float[] x, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[offset + i] > x[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
