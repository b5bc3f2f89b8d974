package io.kvserve.cuda;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.engine.backend.BackendAvailability;
import io.kvserve.engine.model.ForwardBatch;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.model.WeightMatrix;
import jcuda.driver.CUdeviceptr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

/**
 * The CUDA backend's benchmarks, run on the GPU machine ({@code inference-service/cuda/gpu-run bench}):
 * <ol>
 *   <li>GEMV bandwidth (one token, the decode shape) per weight type, as a % of the measured
 *       device-to-device copy bandwidth (read + write bytes per second);</li>
 *   <li>prefill GEMM TFLOP/s (F16, BF16) on llama-3.2-1b's projection shapes;</li>
 *   <li>split-K decode attention at batch 1 and 64 over 4k-token contexts (llama-3.2-1b heads);</li>
 *   <li>end-to-end decode tokens/s of a llama-3.2-1b-shaped model (random weights, BF16) at batch
 *       1 and 64, as a % of the HBM roofline (the bytes a step must read, at the copy's bandwidth).</li>
 * </ol>
 * PyTorch's figures for (b) and (c) come from {@code tools/gpu/torch-baselines.py} where PyTorch
 * is installed on the same machine; this program prints ours.
 *
 * <pre>java ... io.kvserve.cuda.CudaBenchmark [--model-dir DIR] [--skip-e2e]</pre>
 */
public final class CudaBenchmark {

    private final CudaDevice device;
    private final CudaKernels kernels;
    private final DeviceMemory memory;
    private final Random random = new Random(3);

    private CudaBenchmark(CudaDevice device) {
        this.device = device;
        this.kernels = new CudaKernels(device);
        this.memory = new DeviceMemory(device);
    }

    public static void main(String[] args) throws Exception {
        Path modelDir = Path.of(System.getProperty("java.io.tmpdir"));
        boolean e2e = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model-dir" -> modelDir = Path.of(args[++i]);
                case "--skip-e2e" -> e2e = false;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: CudaBenchmark [--model-dir DIR] [--skip-e2e]");
            }
        }
        BackendAvailability availability = CudaProbe.probe();
        if (!(availability instanceof BackendAvailability.Available available)) {
            System.err.println("cuda-bench: no usable GPU: " + ((BackendAvailability.Unavailable) availability).reason());
            System.exit(2);
            return;
        }
        System.out.println("device: " + available.description());
        try (CudaDevice device = new CudaDevice()) {
            CudaBenchmark bench = new CudaBenchmark(device);
            double copyBytesPerSecond = bench.copyBandwidth();
            bench.gemv(copyBytesPerSecond);
            bench.gemm();
            bench.attention();
            bench.memory.close();
            if (e2e) {
                bench.endToEnd(modelDir, copyBytesPerSecond);
            }
        }
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    /** (a) the reference: device-to-device copy of 2 GiB, read + write bytes per second. */
    double copyBandwidth() {
        long bytes = 2L << 30;
        CUdeviceptr a = memory.allocate(bytes);
        CUdeviceptr b = memory.allocate(bytes);
        int repeats = 20;
        float ms = device.time(repeats, () -> device.copyAsync(a, b, bytes));
        double bw = 2.0 * bytes * repeats / (ms / 1e3);
        System.out.printf(Locale.ROOT, "(a) device-to-device copy: %.0f GB/s (read + write)%n", bw / 1e9);
        return bw;
    }

    /** (a) GEMV: one token through an 8192 x 8192 matrix (and llama-3.2-1b's 2048 x 8192 down projection). */
    void gemv(double copyBytesPerSecond) {
        int[][] shapes = {{8192, 8192}, {2048, 8192}, {128_256, 2048}};
        for (GgmlType type : new GgmlType[] {GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0}) {
            for (int[] shape : shapes) {
                int rows = shape[0];
                int cols = shape[1];
                PackedMatrix packed = PackedMatrix.of(randomMatrix(type, rows, cols));
                DeviceMatrix w = DeviceMatrix.upload(memory, packed);
                CUdeviceptr x = memory.upload(gaussian(cols));
                CUdeviceptr out = memory.allocate((long) rows * Float.BYTES);
                CUdeviceptr xq = memory.allocate(cols);
                CUdeviceptr xd = memory.allocate((long) cols / 32 * Float.BYTES);
                int repeats = 200;
                float ms = device.time(repeats, () -> kernels.matmul(out, w, x, null, 1, false, xq, xd));
                long bytes = packed.values().byteSize() + (packed.scales() == null ? 0 : packed.scales().byteSize());
                double bw = bytes * repeats / (ms / 1e3);
                System.out.printf(Locale.ROOT, "(a) gemv %-5s (%6d, %5d): %7.1f us, %6.0f GB/s = %5.1f%% of copy%n",
                        type, rows, cols, ms * 1e3 / repeats, bw / 1e9, 100 * bw / copyBytesPerSecond);
            }
        }
    }

    private WeightMatrix randomMatrix(GgmlType type, int rows, int cols) {
        // quantizing 100M values in Java is slow: repeat one random 1M-value tile
        int tile = 1 << 20;
        float[] values = gaussian(tile);
        long n = (long) rows * cols;
        if (n <= tile) {
            float[] exact = new float[(int) n];
            System.arraycopy(values, 0, exact, 0, (int) n);
            return WeightMatrix.quantize(type, rows, cols, exact);
        }
        WeightMatrix tileMatrix = WeightMatrix.quantize(type, tile / cols, cols, values);
        long tileBytes = tileMatrix.data().byteSize();
        long totalBytes = type.byteSize(cols) * rows;
        MemorySegment data = Arena.ofAuto().allocate(totalBytes, 64);
        for (long done = 0; done < totalBytes; done += tileBytes) {
            MemorySegment.copy(tileMatrix.data(), 0, data, done, Math.min(tileBytes, totalBytes - done));
        }
        return new WeightMatrix(type, rows, cols, data);
    }

    /** (b) GEMM: llama-3.2-1b's projections over prefill chunks of 512 and 2048 tokens. */
    void gemm() {
        int[][] shapes = {{2048, 2048}, {3072, 2048}, {16384, 2048}, {2048, 8192}};
        for (GgmlType type : new GgmlType[] {GgmlType.F16, GgmlType.BF16}) {
            for (int[] shape : shapes) {
                for (int tokens : new int[] {512, 2048}) {
                    int rows = shape[0];
                    int cols = shape[1];
                    DeviceMatrix w = DeviceMatrix.upload(memory, PackedMatrix.of(randomMatrix(type, rows, cols)));
                    CUdeviceptr x = memory.upload(gaussian(tokens * cols));
                    CUdeviceptr out = memory.allocate((long) tokens * rows * Float.BYTES);
                    int repeats = 50;
                    float ms = device.time(repeats, () -> kernels.matmul(out, w, x, null, tokens, false, null, null));
                    double flops = 2.0 * rows * cols * tokens * repeats / (ms / 1e3);
                    System.out.printf(Locale.ROOT, "(b) gemm %-4s M=%5d N=%5d K=%5d: %8.1f us, %6.1f TFLOP/s%n", type,
                            tokens, rows, cols, ms * 1e3 / repeats, flops / 1e12);
                }
            }
        }
    }

    /** (c) decode attention, llama-3.2-1b heads (32 q, 8 kv, 64 wide), F16 cache, 4096-token contexts. */
    void attention() {
        int numHeads = 32;
        int numKvHeads = 8;
        int headDim = 64;
        int blockSize = 16;
        int context = 4096;
        int numSms = device.numSms();
        for (int batch : new int[] {1, 64}) {
            int blocksPerSeq = context / blockSize;
            int numBlocks = batch * blocksPerSeq;
            long cacheBytes = (long) numBlocks * blockSize * numKvHeads * headDim * 2;
            CUdeviceptr k = memory.allocate(cacheBytes);
            CUdeviceptr v = memory.allocate(cacheBytes);
            int stride = (numHeads + 2 * numKvHeads) * headDim;
            CUdeviceptr qkv = memory.upload(gaussian(batch * stride));
            int[] tables = new int[batch * blocksPerSeq];
            for (int i = 0; i < tables.length; i++) {
                tables[i] = i;
            }
            int[] seqs = new int[batch];
            int[] positions = new int[batch];
            for (int s = 0; s < batch; s++) {
                seqs[s] = s;
                positions[s] = context - 1;
            }
            CUdeviceptr dTables = memory.upload(tables);
            CUdeviceptr dSeqs = memory.upload(seqs);
            CUdeviceptr dPositions = memory.upload(positions);
            AttentionPlan plan = AttentionPlan.of(context, batch, numKvHeads, blockSize, AttentionPlan.targetBlocks(numSms));
            long partials = (long) batch * numHeads * plan.numSplits();
            CUdeviceptr acc = memory.allocate(partials * headDim * Float.BYTES);
            CUdeviceptr maxSum = memory.allocate(partials * 2 * Float.BYTES);
            CUdeviceptr out = memory.allocate((long) batch * numHeads * headDim * Float.BYTES);
            int repeats = 200;
            float ms = device.time(repeats, () -> kernels.attention(out, qkv, stride, 0, true, k, v, dTables, blocksPerSeq,
                    dSeqs, dPositions, numHeads, numKvHeads, headDim, blockSize, 0.125f, plan, acc, maxSum, batch));
            double bw = 2.0 * batch * context * numKvHeads * headDim * 2 * repeats / (ms / 1e3);
            System.out.printf(Locale.ROOT, "(c) decode attention batch %2d x %d tokens (%d splits of %d): %7.1f us, "
                    + "KV read at %.0f GB/s%n", batch, context, plan.numSplits(), plan.splitSize(), ms * 1e3 / repeats, bw / 1e9);
        }
    }

    /** (d) decode tokens/s of a llama-3.2-1b-shaped BF16 model at batch 1 and 64, 512-token contexts. */
    void endToEnd(Path modelDir, double copyBytesPerSecond) throws Exception {
        Files.createDirectories(modelDir);
        Path file = modelDir.resolve("llama-3.2-1b-BF16.gguf");
        if (!Files.exists(file)) {
            long start = System.nanoTime();
            new ModelGenerator(ModelPreset.LLAMA32_1B, 11).writeGguf(file, ModelGenerator.WeightType.BF16);
            System.out.printf(Locale.ROOT, "(d) generated %s in %.0f s%n", file, (System.nanoTime() - start) / 1e9);
        }
        int blockSize = 16;
        int context = 512;
        try (ModelFile model = ModelFile.open(file); LlamaWeights weights = LlamaWeights.load(model)) {
            ModelConfig config = weights.config();
            for (int batch : new int[] {1, 64}) {
                int blocksPerSeq = (context + 2 * 34) / blockSize + 1; // the prompt, then 2 x 34 decode steps
                try (CudaLlamaModel gpu = new CudaLlamaModel(device, kernels, weights, batch * blocksPerSeq, blockSize,
                        KvCacheDtype.F16, Math.max(batch, 512), device.numSms())) {
                    int[][] tables = new int[batch][blocksPerSeq];
                    for (int s = 0; s < batch; s++) {
                        for (int b = 0; b < blocksPerSeq; b++) {
                            tables[s][b] = s * blocksPerSeq + b;
                        }
                        // prefill the context, one sequence per call, 512 tokens
                        int[] ids = new int[context];
                        for (int i = 0; i < context; i++) {
                            ids[i] = random.nextInt(config.vocabSize());
                        }
                        gpu.forward(ForwardBatch.single(ids, 0, tables[s]), new float[config.vocabSize()]);
                    }
                    float[] logits = new float[batch * config.vocabSize()];
                    int[] tokens = new int[batch];
                    int steps = 32;
                    int[] seqStarts = new int[batch + 1];
                    int[] rows = new int[batch];
                    for (int s = 0; s < batch; s++) {
                        seqStarts[s + 1] = s + 1;
                        rows[s] = s;
                    }
                    int position = context;
                    for (boolean onDevice : new boolean[] {false, true}) {
                        long start = 0;
                        for (int step = -2; step < steps; step++) { // two warm-up steps (the first captures the graph)
                            if (step == 0) {
                                start = System.nanoTime();
                            }
                            int[] starts = new int[batch];
                            java.util.Arrays.fill(starts, position++);
                            int[] ids = new int[batch];
                            for (int s = 0; s < batch; s++) {
                                ids[s] = random.nextInt(config.vocabSize());
                            }
                            ForwardBatch decode = new ForwardBatch(ids, seqStarts, starts, tables, rows);
                            if (onDevice) {
                                gpu.forwardArgmax(decode, tokens);
                            } else {
                                gpu.forward(decode, logits);
                            }
                        }
                        double seconds = (System.nanoTime() - start) / 1e9;
                        double tokensPerSecond = batch * steps / seconds;
                        long weightBytes = weights.bytesReadPerToken();
                        long kvBytes = (long) batch * position * config.numLayers() * 2L * config.kvDim() * 2;
                        // the copy's read + write bytes per second is what HBM sustains; a decode step only reads
                        double rooflineStepsPerSecond = copyBytesPerSecond / (weightBytes + kvBytes);
                        System.out.printf(Locale.ROOT, "(d) decode llama-3.2-1b BF16 batch %2d, %s: %8.0f tok/s, %.2f ms/step;"
                                        + " HBM roofline %8.0f tok/s (%.0f MB/step at %.0f GB/s) -> %.1f%% of roofline%n",
                                batch, onDevice ? "argmax on the device" : "logits to the host", tokensPerSecond,
                                seconds * 1e3 / steps, rooflineStepsPerSecond * batch, (weightBytes + kvBytes) / 1e6,
                                copyBytesPerSecond / 1e9, 100 * tokensPerSecond / (rooflineStepsPerSecond * batch));
                    }
                }
            }
        }
    }
}
