package io.kvserve.engine.backend;

import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.LlamaModel;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.model.ModelRunner;
import io.kvserve.engine.model.PagedKvCache;
import io.kvserve.engine.ops.TensorOps;
import io.kvserve.engine.ops.VectorTensorOps;

/** The CPU: {@link LlamaModel} over a {@link TensorOps} and a host-memory {@link PagedKvCache}. */
public final class CpuBackend implements Backend {

    private final TensorOps ops;
    private final boolean ownsOps;
    private final String description;

    /** Over {@code ops}, which stay the caller's to close. */
    public static CpuBackend over(TensorOps ops) {
        return new CpuBackend(ops, false, "cpu: " + ops.getClass().getSimpleName());
    }

    /** Vector API kernels on {@code numThreads} threads (0: all cores), closed with the backend. */
    public static CpuBackend vector(int numThreads) {
        VectorTensorOps ops = numThreads > 0 ? new VectorTensorOps(numThreads) : new VectorTensorOps();
        return new CpuBackend(ops, true, "cpu: Vector API kernels on " + ops.numThreads() + " threads");
    }

    private CpuBackend(TensorOps ops, boolean ownsOps, String description) {
        this.ops = ops;
        this.ownsOps = ownsOps;
        this.description = description;
    }

    /** The kernels the runners use. */
    public TensorOps ops() {
        return ops;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public ModelRunner createRunner(LlamaWeights weights, int numKvBlocks, int blockSize, KvCacheDtype kvCacheDtype,
                                    int maxBatchTokens) {
        PagedKvCache cache = new PagedKvCache(weights.config(), numKvBlocks, blockSize, kvCacheDtype);
        return new LlamaModel(weights, ops, cache, maxBatchTokens);
    }

    @Override
    public void close() {
        if (ownsOps) {
            ops.close();
        }
    }

    /** The provider {@link Backends} finds through {@link java.util.ServiceLoader}. */
    public static final class Provider implements BackendProvider {

        @Override
        public String name() {
            return "cpu";
        }

        @Override
        public int priority() {
            return 0;
        }

        @Override
        public BackendAvailability probe() {
            return new BackendAvailability.Available("cpu: " + Runtime.getRuntime().availableProcessors() + " cores");
        }

        @Override
        public Backend open(BackendAvailability.Available available, int numThreads) {
            return vector(numThreads);
        }
    }
}
