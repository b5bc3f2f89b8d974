package io.kvserve.cli;

import io.kvserve.inference.InferenceServerApplication;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kvserve serve}: one inference instance, an OpenAI-compatible server on one model file (like
 * {@code vllm serve} or {@code llama-server}). The options map to the {@code kvserve.*} properties of
 * the service; {@code --set key=value} reaches any other.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model over the OpenAI API (POST /v1/chat/completions, /v1/completions, GET /v1/models)"
                + " with health (/actuator/health) and Prometheus metrics (/actuator/prometheus).",
                "Without --redis-url it is a complete single-node server; with it, the instance also registers in "
                        + "Redis and publishes its KV-cache events for kvshare."})
final class ServeCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, description = "Model file: GGUF, or a Hugging Face directory.")
    Path model;

    @Option(names = {"-p", "--port"}, defaultValue = "8000", description = "HTTP port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to listen on (default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = {"-t", "--threads"}, description = "Matmul threads (default: available processors).")
    Integer threads;

    @Option(names = "--backend", description = "auto (cuda where a usable NVIDIA GPU and driver are, else cpu), cpu or cuda (default auto).")
    String backend;

    @Option(names = "--served-model-name", description = "Model id clients send (default: the file name without extension).")
    String servedModelName;

    @Option(names = "--max-num-seqs", description = "Most sequences running at once (default 16).")
    Integer maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", description = "Token budget per engine step (default 256).")
    Integer maxNumBatchedTokens;

    @Option(names = "--max-model-len", description = "Most tokens per sequence (default: the model's context length).")
    Integer maxModelLen;

    @Option(names = "--kv-cache-memory", description = "Memory for the KV cache, e.g. 512MB, 2GB (default 256MB).")
    String kvCacheMemory;

    @Option(names = "--kv-type", description = "KV cache element type: f32 or f16 (default f32).")
    String kvType;

    @Option(names = "--no-prefix-caching", description = "Turn automatic prefix caching off.")
    boolean noPrefixCaching;

    @Option(names = "--redis-url", description = "Join the platform: register and publish KV events to this Redis (redis://host:port).")
    String redisUrl;

    @Option(names = "--instance-id", description = "Id in the registry and KV events (default: host-port-random).")
    String instanceId;

    @Option(names = "--set", description = "Any service property, key=value (repeatable), e.g. --set kvserve.instance.drain-timeout=10s.")
    Map<String, String> properties = Map.of();

    @Override
    public Integer call() throws InterruptedException {
        if (!Files.exists(model)) {
            throw new IllegalArgumentException("model file " + model + " does not exist");
        }
        List<String> args = new ArrayList<>();
        args.add("--kvserve.engine.model=" + model.toAbsolutePath());
        args.add("--server.port=" + port);
        args.add("--server.address=" + host);
        add(args, "kvserve.engine.threads", threads);
        add(args, "kvserve.engine.backend", backend);
        add(args, "kvserve.engine.served-model-name", servedModelName);
        add(args, "kvserve.engine.max-num-seqs", maxNumSeqs);
        add(args, "kvserve.engine.max-num-batched-tokens", maxNumBatchedTokens);
        add(args, "kvserve.engine.max-model-len", maxModelLen);
        add(args, "kvserve.engine.kv-cache.memory", kvCacheMemory);
        add(args, "kvserve.engine.kv-cache.dtype", kvType);
        if (noPrefixCaching) {
            args.add("--kvserve.engine.enable-prefix-caching=false");
        }
        add(args, "kvserve.redis.url", redisUrl);
        add(args, "kvserve.instance.id", instanceId);
        properties.forEach((key, value) -> args.add("--" + key + "=" + value));

        return ServiceRunner.runUntilClosed(InferenceServerApplication.create(), args);
    }

    private static void add(List<String> args, String key, Object value) {
        if (value != null) {
            args.add("--" + key + "=" + value);
        }
    }
}
