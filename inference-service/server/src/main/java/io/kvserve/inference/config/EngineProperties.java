package io.kvserve.inference.config;

import io.kvserve.engine.EngineConfig;
import io.kvserve.engine.model.KvCacheDtype;
import java.nio.file.Path;
import java.util.Locale;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The engine of this instance, under {@code kvserve.engine.*}, vLLM's names where the concept is the
 * same ({@code vllm serve --max-num-batched-tokens}, {@code --max-num-seqs}, {@code --block-size},
 * {@code --enable-prefix-caching}, {@code --max-model-len}, {@code --served-model-name}).
 *
 * @param model                the model file: a GGUF file or a Hugging Face directory (config.json,
 *                             tokenizer.json, *.safetensors)
 * @param servedModelName      the model id clients send and {@code /v1/models} lists; empty takes the
 *                             file name without its extension
 * @param backend              {@code auto} (cuda where a usable GPU and driver are, else cpu), {@code cpu}
 *                             or {@code cuda} (fails at start, with the reason, where it cannot run)
 * @param threads              CPU matmul threads; 0 takes the available processors
 * @param maxNumBatchedTokens  most new tokens per engine step over all sequences
 * @param maxNumSeqs           most sequences running at once
 * @param maxNumWaiting        most requests queued and not yet running; more get HTTP 429
 * @param maxModelLen          most tokens (prompt plus output) per sequence; 0 takes the model's context length
 * @param enablePrefixCaching  reuse the KV of full blocks across requests with the same prefix
 * @param agingSeconds         waiting time worth a whole prompt of prefix hits in the queue order
 * @param kvCache              the paged KV cache
 */
@ConfigurationProperties("kvserve.engine")
public record EngineProperties(
        Path model,
        @DefaultValue("") String servedModelName,
        @DefaultValue("auto") String backend,
        @DefaultValue("0") int threads,
        @DefaultValue("256") int maxNumBatchedTokens,
        @DefaultValue("16") int maxNumSeqs,
        @DefaultValue("1024") int maxNumWaiting,
        @DefaultValue("0") int maxModelLen,
        @DefaultValue("true") boolean enablePrefixCaching,
        @DefaultValue("10") double agingSeconds,
        @DefaultValue KvCache kvCache) {

    public EngineProperties {
        if (model == null) {
            throw new IllegalArgumentException("kvserve.engine.model is not set: give the model file "
                    + "(bin/kvserve serve --model FILE, or KVSERVE_ENGINE_MODEL=FILE)");
        }
        backend = backend.toLowerCase(Locale.ROOT);
        if (!backend.equals("auto") && !backend.equals("cpu") && !backend.equals("cuda")) {
            throw new IllegalArgumentException("kvserve.engine.backend=" + backend + " is not one of auto, cpu, cuda");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("kvserve.engine.threads=" + threads + " must be >= 0 (0: all processors)");
        }
    }

    /** The name clients use for this model. */
    public String modelName() {
        if (!servedModelName.isBlank()) {
            return servedModelName;
        }
        String file = model.getFileName().toString();
        int dot = file.lastIndexOf('.');
        return dot > 0 ? file.substring(0, dot) : file;
    }

    /** Matmul threads to start. */
    public int numThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /** The engine's limits; the engine checks them against the model. */
    public EngineConfig engineConfig() {
        return EngineConfig.builder()
                .maxNumBatchedTokens(maxNumBatchedTokens)
                .maxNumSeqs(maxNumSeqs)
                .maxNumWaiting(maxNumWaiting)
                .maxModelLen(maxModelLen)
                .enablePrefixCaching(enablePrefixCaching)
                .agingSeconds(agingSeconds)
                .blockSize(kvCache.blockSize())
                .numKvBlocks(kvCache.numBlocks())
                .kvCacheBytes(kvCache.memory().toBytes())
                .kvCacheDtype(kvCache.kvCacheDtype())
                .build();
    }

    /**
     * @param blockSize tokens per KV block and per prefix-cache hash (kvshare assumes 16)
     * @param numBlocks KV blocks; 0 sizes the cache from {@code memory}
     * @param memory    memory for the KV cache when numBlocks is 0
     * @param dtype     element type of the cache: f32 or f16
     */
    public record KvCache(@DefaultValue("16") int blockSize, @DefaultValue("0") int numBlocks,
                          @DefaultValue("256MB") DataSize memory, @DefaultValue("f32") String dtype) {

        public KvCache {
            dtype = dtype.toLowerCase(Locale.ROOT);
            if (!dtype.equals("f32") && !dtype.equals("f16")) {
                throw new IllegalArgumentException("kvserve.engine.kv-cache.dtype=" + dtype + ": f32 or f16");
            }
        }

        public KvCacheDtype kvCacheDtype() {
            return dtype.equals("f16") ? KvCacheDtype.F16 : KvCacheDtype.F32;
        }
    }
}
