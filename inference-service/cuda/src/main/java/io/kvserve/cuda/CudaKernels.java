package io.kvserve.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

import java.util.HashMap;
import java.util.Map;

/**
 * The kernels of {@link KernelImage}, loaded into a {@link CudaDevice}, each behind a method with
 * the arguments of kvserve_kernels.h and the geometry of {@link Launch}. Every call only queues the
 * launch on the device's stream (so a sequence of calls can be captured into a graph).
 */
final class CudaKernels {

    private final CudaDevice device;
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final CUmodule module;

    CudaKernels(CudaDevice device) {
        this.device = device;
        this.module = device.loadModule(KernelImage.fatbin());
        // Look every kernel up now, not at its first launch: the first decode step of a batch size is
        // captured into a graph, and the matrix-vector kernels may first be launched there (after a
        // prefill that ran the GEMMs). Under the driver's lazy module loading (the default since
        // CUDA 12.2) a kernel is loaded on its first lookup or use, and older drivers do not load
        // kernels inside a stream capture; looking them all up here keeps that work out of any
        // capture. A name missing from the fatbin also fails here, at start-up.
        AttentionPlan plan = new AttentionPlan(AttentionPlan.TILE, 1);
        for (KernelWeightType type : KernelWeightType.values()) {
            resolve(Launch.embed(type, 1));
            resolve(Launch.matmul(type, 1, 1));
            resolve(Launch.matmul(type, 1, Launch.GEMM_MIN_TOKENS));
        }
        for (boolean f16 : new boolean[] {true, false}) {
            resolve(Launch.ropeStoreKv(f16, 1));
            resolve(Launch.attention(f16, 1, 1, plan));
        }
        resolve(Launch.rmsNorm(1));
        resolve(Launch.quantizeActivations(1, 32));
        resolve(Launch.attentionReduce(1, 1, 32));
        resolve(Launch.siluMul(1, 1));
        resolve(Launch.gatherRows(1));
        resolve(Launch.argmaxRows(1));
        resolve(Launch.sampleRows(1));
    }

    private CUfunction resolve(Launch launch) {
        return functions.computeIfAbsent(launch.kernel(), name -> CudaDevice.function(module, name));
    }

    private void launch(Launch launch, Object... args) {
        CUfunction function = resolve(launch);
        device.launch(function, launch.gridX(), launch.gridY(), launch.gridZ(), launch.block(), KernelArgs.of(args));
    }

    void embed(CUdeviceptr x, DeviceMatrix table, CUdeviceptr tokenIds, int numTokens) {
        launch(Launch.embed(table.type(), numTokens), x, table.values(), table.scales(), tokenIds, numTokens, table.cols());
    }

    void rmsNorm(CUdeviceptr out, CUdeviceptr x, CUdeviceptr weight, int numTokens, int dim, float eps) {
        launch(Launch.rmsNorm(numTokens), out, x, weight, numTokens, dim, eps);
    }

    /**
     * {@code out = (accumulate ? out : 0) + bias + x w^T}: x (numTokens, w.cols), out (numTokens, w.rows).
     * The int8 paths first quantize x into {@code xq}/{@code xd} (scratch of (numTokens, w.cols)).
     */
    void matmul(CUdeviceptr out, DeviceMatrix w, CUdeviceptr x, CUdeviceptr bias, int numTokens, boolean accumulate,
                CUdeviceptr xq, CUdeviceptr xd) {
        Launch launch = Launch.matmul(w.type(), w.rows(), numTokens);
        int acc = accumulate ? 1 : 0;
        if (Launch.usesGemm(w.type(), numTokens)) {
            launch(launch, out, w.values(), w.scales(), x, bias, w.rows(), w.cols(), numTokens, acc);
            return;
        }
        if (w.type().quantized()) {
            launch(Launch.quantizeActivations(numTokens, w.cols()), x, xq, xd, numTokens, w.cols());
        }
        launch(launch, out, w.values(), w.scales(), x, xq, xd, bias, w.rows(), w.cols(), numTokens, acc);
    }

    void ropeStoreKv(CUdeviceptr qkv, int qkvStride, int qOffset, int kOffset, int vOffset, CUdeviceptr positions,
                     CUdeviceptr slots, CUdeviceptr invFreq, int numHeads, int numKvHeads, int headDim, boolean neox,
                     boolean f16Cache, CUdeviceptr kCache, CUdeviceptr vCache, int blockSize, int numTokens) {
        launch(Launch.ropeStoreKv(f16Cache, numTokens), qkv, qkvStride, qOffset, kOffset, vOffset, positions, slots, invFreq,
                numHeads, numKvHeads, headDim, neox ? 1 : 0, kCache, vCache, blockSize, numTokens);
    }

    void attention(CUdeviceptr out, CUdeviceptr qkv, int qkvStride, int qOffset, boolean f16Cache, CUdeviceptr kCache,
                   CUdeviceptr vCache, CUdeviceptr blockTables, int blockTableStride, CUdeviceptr tokenSeqs,
                   CUdeviceptr positions, int numHeads, int numKvHeads, int headDim, int blockSize, float scale,
                   AttentionPlan plan, CUdeviceptr partialAcc, CUdeviceptr partialMaxSum, int numTokens) {
        launch(Launch.attention(f16Cache, numTokens, numKvHeads, plan), qkv, qkvStride, qOffset, kCache, vCache,
                blockTables, blockTableStride, tokenSeqs, positions, numHeads, numKvHeads, headDim, blockSize, scale,
                plan.splitSize(), partialAcc, partialMaxSum, numTokens);
        launch(Launch.attentionReduce(numTokens, numHeads, headDim), out, partialAcc, partialMaxSum, numHeads, headDim,
                plan.numSplits(), numTokens);
    }

    void siluMul(CUdeviceptr out, CUdeviceptr gateUp, int hidden, int numTokens) {
        launch(Launch.siluMul(numTokens, hidden), out, gateUp, hidden, numTokens);
    }

    void gatherRows(CUdeviceptr out, CUdeviceptr x, CUdeviceptr indices, int numRows, int dim) {
        launch(Launch.gatherRows(numRows), out, x, indices, numRows, dim);
    }

    void argmaxRows(CUdeviceptr out, CUdeviceptr logits, int numRows, int vocab) {
        launch(Launch.argmaxRows(numRows), out, logits, numRows, vocab);
    }

    void sampleRows(CUdeviceptr out, CUdeviceptr logits, int numRows, int vocab, CUdeviceptr temperatures,
                    CUdeviceptr uniforms) {
        launch(Launch.sampleRows(numRows), out, logits, numRows, vocab, temperatures, uniforms);
    }
}
