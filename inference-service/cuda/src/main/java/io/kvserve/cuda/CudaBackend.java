package io.kvserve.cuda;

import io.kvserve.engine.backend.Backend;
import io.kvserve.engine.backend.BackendAvailability;
import io.kvserve.engine.backend.BackendProvider;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.model.ModelRunner;

/**
 * The CUDA backend: device 0, our kernels loaded from {@link KernelImage}, and a
 * {@link CudaLlamaModel} per engine. Opened only after {@link CudaProbe} found a driver and a
 * device, so no JCuda class is loaded on a machine without them.
 */
public final class CudaBackend implements Backend {

    private final CudaDevice device;
    private final CudaKernels kernels;
    private final String description;

    CudaBackend(String description) {
        this.device = new CudaDevice();
        this.kernels = new CudaKernels(device);
        this.description = "cuda: " + description;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public ModelRunner createRunner(LlamaWeights weights, int numKvBlocks, int blockSize, KvCacheDtype kvCacheDtype,
                                    int maxBatchTokens) {
        return new CudaLlamaModel(device, kernels, weights, numKvBlocks, blockSize, kvCacheDtype, maxBatchTokens,
                device.numSms());
    }

    CudaDevice device() {
        return device;
    }

    CudaKernels kernels() {
        return kernels;
    }

    @Override
    public void close() {
        device.close();
    }

    /** Registered in META-INF/services; preferred over the CPU wherever it can run. */
    public static final class Provider implements BackendProvider {

        @Override
        public String name() {
            return "cuda";
        }

        @Override
        public int priority() {
            return 10;
        }

        @Override
        public BackendAvailability probe() {
            return CudaProbe.probe();
        }

        @Override
        public Backend open(BackendAvailability.Available available, int numThreads) {
            return new CudaBackend(available.description());
        }
    }
}
