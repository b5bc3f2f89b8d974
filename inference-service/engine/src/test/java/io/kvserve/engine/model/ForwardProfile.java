package io.kvserve.engine.model;

import io.kvserve.common.model.ModelFile;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.ops.RopeFrequencies;
import io.kvserve.engine.ops.TensorOps;
import io.kvserve.engine.ops.VectorTensorOps;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Where a forward pass spends its time, by kernel, in thread CPU time on ONE thread (so the figures
 * hold on a machine shared with other work, where wall-clock time does not). Not a test: a tool.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp TEST_CLASSPATH io.kvserve.engine.model.ForwardProfile MODEL.gguf 512
 *       prefill of 512 random tokens, 4 rounds
 *   ... ForwardProfile MODEL.gguf 256 16
 *       16 sequences of 256 tokens, then decode steps of one token each (16 per round, 4 rounds)
 * </pre>
 * Prints per round: CPU ms, tokens/s on one thread, and each kernel's share. The KV cache is F16.
 */
public final class ForwardProfile {

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final Map<String, long[]> NANOS = new TreeMap<>();

    private ForwardProfile() {
    }

    private static long now() {
        return CPU.getCurrentThreadCpuTime();
    }

    private static void charge(String kernel, long start) {
        NANOS.computeIfAbsent(kernel, k -> new long[1])[0] += now() - start;
    }

    /** The kernels of one VectorTensorOps, each call charged to its name. */
    private record Timed(VectorTensorOps ops) implements TensorOps {
        public void matmul(WeightMatrix w, float[] x, int n, float[] out) {
            long t = now();
            ops.matmul(w, x, n, out);
            charge("matmul", t);
        }

        public void matmul(WeightMatrix[] ws, float[] x, int n, float[][] outs) {
            long t = now();
            ops.matmul(ws, x, n, outs);
            charge("matmul-qkv", t);
        }

        public void matmulSiluMul(WeightMatrix w1, WeightMatrix w3, float[] x, int n, float[] gate, float[] up) {
            long t = now();
            ops.matmulSiluMul(w1, w3, x, n, gate, up);
            charge("matmul-gate-up", t);
        }

        public void attention(float[] out, float[] q, int n, int[] positions, int[] tokenSeqs, int[][] blockTables,
                              PagedKvCache cache, int layer, int numHeads, int headDim, float scale) {
            long t = now();
            ops.attention(out, q, n, positions, tokenSeqs, blockTables, cache, layer, numHeads, headDim, scale);
            charge("attention", t);
        }

        public void rmsNorm(float[] out, float[] x, float[] weight, int n, int dim, float eps) {
            long t = now();
            ops.rmsNorm(out, x, weight, n, dim, eps);
            charge("rmsnorm", t);
        }

        public void rope(float[] x, int n, int numHeads, int headDim, int[] positions, RopeFrequencies freqs,
                         RopeLayout layout) {
            long t = now();
            ops.rope(x, n, numHeads, headDim, positions, freqs, layout);
            charge("rope", t);
        }

        public void siluMul(float[] gate, float[] up, int n) {
            ops.siluMul(gate, up, n);
        }

        public void softmax(float[] x, int offset, int n) {
            ops.softmax(x, offset, n);
        }

        public void add(float[] dst, float[] src, int n) {
            long t = now();
            ops.add(dst, src, n);
            charge("add", t);
        }

        public int argmax(float[] x, int offset, int n) {
            return ops.argmax(x, offset, n);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ForwardProfile MODEL NUM_PROMPT_TOKENS [NUM_DECODE_SEQUENCES]");
            System.exit(2);
        }
        int numPrompt = Integer.parseInt(args[1]);
        int numSeqs = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        try (ModelFile file = ModelFile.open(Path.of(args[0])); LlamaWeights weights = LlamaWeights.load(file);
             VectorTensorOps ops = new VectorTensorOps(1)) {
            int vocab = file.config().vocabSize();
            int[] prompt = new int[numPrompt];
            Random random = new Random(1);
            Arrays.setAll(prompt, i -> random.nextInt(vocab));
            int blocksPerSeq = (numPrompt + 64 + 15) / 16 + 1;
            int numTables = Math.max(1, numSeqs);
            PagedKvCache cache = new PagedKvCache(file.config(), numTables * blocksPerSeq, 16, KvCacheDtype.F16);
            LlamaModel model = new LlamaModel(weights, new Timed(ops), cache, Math.max(numPrompt, numTables));
            int[][] tables = new int[numTables][blocksPerSeq];
            for (int s = 0; s < numTables; s++) {
                for (int b = 0; b < blocksPerSeq; b++) {
                    tables[s][b] = s * blocksPerSeq + b;
                }
            }
            float[] logits = new float[numTables * vocab];
            if (numSeqs == 0) {
                for (int round = 0; round < 4; round++) {
                    NANOS.clear();
                    long start = now();
                    model.forward(ForwardBatch.single(prompt, 0, tables[0]), logits);
                    report("prefill " + numPrompt, now() - start, numPrompt);
                }
                return;
            }
            for (int s = 0; s < numSeqs; s++) {
                model.forward(ForwardBatch.single(prompt, 0, tables[s]), logits);
            }
            int[] seqStarts = new int[numSeqs + 1];
            Arrays.setAll(seqStarts, i -> i);
            int[] logitsIndices = Arrays.copyOf(seqStarts, numSeqs);
            int[] tokens = new int[numSeqs];
            int[] positions = new int[numSeqs];
            for (int round = 0; round < 4; round++) {
                NANOS.clear();
                long start = now();
                for (int step = 0; step < 16; step++) {
                    Arrays.fill(tokens, 7);
                    Arrays.fill(positions, numPrompt + round * 16 + step);
                    model.forward(new ForwardBatch(tokens, seqStarts, positions, tables, logitsIndices), logits);
                }
                report("decode x" + numSeqs + " at " + numPrompt, now() - start, 16 * numSeqs);
            }
        }
    }

    private static void report(String what, long nanos, int numTokens) {
        StringBuilder line = new StringBuilder(String.format("%s: %.1f ms CPU, %.1f tokens/s on 1 thread;", what,
                nanos / 1e6, numTokens / (nanos / 1e9)));
        NANOS.forEach((kernel, total) -> line.append(String.format(" %s %.0f%%", kernel, 100.0 * total[0] / nanos)));
        System.out.println(line);
    }
}
