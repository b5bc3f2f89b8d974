package io.kvserve.common.safetensors;

import io.kvserve.common.model.ModelConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * A Hugging Face model directory as {@code save_pretrained} leaves it:
 *
 * <pre>
 * config.json                          architecture hyper-parameters ({@link ModelConfig#fromHfConfig})
 * model.safetensors                    one file of weights, or
 * model.safetensors.index.json         {"metadata": {...}, "weight_map": {tensor name: shard file name}}
 * model-00001-of-0000N.safetensors     the shards it names
 * tokenizer.json, tokenizer_config.json  optional; exposed as paths for the tokenizer loaders
 * </pre>
 *
 * Opening reads only the JSON files and checks that the shards exist (shard names may not leave the
 * directory); {@link #openWeights()} maps the shards.
 */
public final class HfModelDirectory {

    public static final String CONFIG = "config.json";
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    private final Path dir;
    private final JsonNode config;
    private final List<Path> shardPaths;
    private final Map<String, Path> weightMap;

    private HfModelDirectory(Path dir, JsonNode config, List<Path> shardPaths, Map<String, Path> weightMap) {
        this.dir = dir;
        this.config = config;
        this.shardPaths = shardPaths;
        this.weightMap = weightMap;
    }

    /**
     * Reads {@code config.json} and the weight index of {@code dir}.
     *
     * @throws SafetensorsFormatException if a JSON file is malformed or a file is missing
     */
    public static HfModelDirectory open(Path dir) throws IOException {
        Path configPath = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configPath)) {
            throw new SafetensorsFormatException(dir, "no " + CONFIG + " in the model directory");
        }
        JsonNode config = readJson(configPath);
        Path single = dir.resolve(SINGLE_FILE);
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            JsonNode weightMapNode = readJson(index).get("weight_map");
            if (weightMapNode == null || !weightMapNode.isObject()) {
                throw new SafetensorsFormatException(index, "no \"weight_map\" object");
            }
            Path root = dir.toAbsolutePath().normalize();
            Map<String, Path> weightMap = new LinkedHashMap<>();
            List<Path> shards = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : weightMapNode.properties()) {
                if (!e.getValue().isString()) {
                    throw new SafetensorsFormatException(index, "weight_map entry '" + e.getKey() + "' is not a file name");
                }
                String shardName = e.getValue().stringValue();
                Path shard = root.resolve(shardName).normalize();
                if (!shard.getParent().equals(root)) {
                    throw new SafetensorsFormatException(index, "weight_map entry '" + e.getKey() + "' names '" + shardName
                            + "', which is not a file in the model directory");
                }
                if (!shards.contains(shard)) {
                    if (!Files.isRegularFile(shard)) {
                        throw new SafetensorsFormatException(index, "shard '" + shardName + "' (for tensor '" + e.getKey()
                                + "') does not exist");
                    }
                    shards.add(shard);
                }
                weightMap.put(e.getKey(), shard);
            }
            return new HfModelDirectory(dir, config, List.copyOf(shards), Collections.unmodifiableMap(weightMap));
        }
        if (Files.isRegularFile(single)) {
            return new HfModelDirectory(dir, config, List.of(single), Map.of());
        }
        throw new SafetensorsFormatException(dir, "neither " + SINGLE_FILE + " nor " + INDEX + " in the model directory");
    }

    /**
     * Largest JSON file read (config, index, tokenizer config); tokenizer.json of a 256k-token model is
     * under 20 MiB.
     */
    static final long MAX_JSON_BYTES = 256L << 20;

    static JsonNode readJson(Path path) throws IOException {
        long size = Files.size(path);
        if (size > MAX_JSON_BYTES) {
            throw new SafetensorsFormatException(path, size + " bytes is over the limit of " + MAX_JSON_BYTES
                    + " bytes for a JSON file");
        }
        try {
            // bytes, not a String: Jackson reports invalid UTF-8 with its offset instead of "Input length = 1"
            JsonNode node = SafetensorsFile.JSON.readTree(Files.readAllBytes(path));
            if (node == null || !node.isObject()) {
                throw new SafetensorsFormatException(path, "not a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw new SafetensorsFormatException(path, "invalid JSON: " + e.getOriginalMessage());
        }
    }

    /** The directory. */
    public Path dir() {
        return dir;
    }

    /** The parsed {@code config.json}. */
    public JsonNode config() {
        return config;
    }

    /**
     * {@link ModelConfig#fromHfConfig(JsonNode)} of {@code config.json}.
     *
     * @throws IllegalArgumentException naming config.json's path and the field when one is missing or invalid
     */
    public ModelConfig modelConfig() {
        try {
            return ModelConfig.fromHfConfig(config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(dir.resolve(CONFIG) + ": " + e.getMessage(), e);
        }
    }

    /** Weight files: the single file, or the index's shards in first-mention order. */
    public List<Path> shardPaths() {
        return shardPaths;
    }

    /** Tensor name to shard, from the index; empty for a single-file model. */
    public Map<String, Path> weightMap() {
        return weightMap;
    }

    /** {@code tokenizer.json}, if present. */
    public Optional<Path> tokenizerJson() {
        return existing(TOKENIZER);
    }

    /** {@code tokenizer_config.json}, if present. */
    public Optional<Path> tokenizerConfigJson() {
        return existing(TOKENIZER_CONFIG);
    }

    /** The parsed {@code tokenizer_config.json}, if present. */
    public Optional<JsonNode> tokenizerConfig() throws IOException {
        Optional<Path> p = tokenizerConfigJson();
        return p.isEmpty() ? Optional.empty() : Optional.of(readJson(p.get()));
    }

    private Optional<Path> existing(String name) {
        Path p = dir.resolve(name);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** Maps every shard. Close the result to unmap them. */
    public Weights openWeights() throws IOException {
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            for (Path p : shardPaths) {
                files.add(SafetensorsFile.open(p));
            }
            return new Weights(files);
        } catch (IOException | RuntimeException e) {
            try {
                closeAll(files);
            } catch (RuntimeException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    /** Closes every file even when one fails; rethrows the first failure with the others suppressed. */
    static void closeAll(List<SafetensorsFile> files) {
        closeAll(files, SafetensorsFile::close);
    }

    static <T> void closeAll(List<T> items, java.util.function.Consumer<T> close) {
        RuntimeException first = null;
        for (T item : items) {
            try {
                close.accept(item);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** The mapped weights of all shards, looked up by tensor name. */
    public static final class Weights implements AutoCloseable {
        private final List<SafetensorsFile> files;
        private final Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();

        Weights(List<SafetensorsFile> files) throws SafetensorsFormatException {
            this.files = files;
            for (SafetensorsFile f : files) {
                for (String name : f.tensors().keySet()) {
                    SafetensorsFile other = byTensor.putIfAbsent(name, f);
                    if (other != null) {
                        throw new SafetensorsFormatException(f.path(), "tensor '" + name + "' is also in " + other.path());
                    }
                }
            }
        }

        /** Tensor names across all shards. */
        public List<String> tensorNames() {
            return List.copyOf(byTensor.keySet());
        }

        /** The tensor's entry, if any shard has it. */
        public Optional<SafetensorsTensor> tensor(String name) {
            SafetensorsFile f = byTensor.get(name);
            return f == null ? Optional.empty() : f.tensor(name);
        }

        /** The shard holding {@code name}. */
        public SafetensorsFile file(String name) {
            SafetensorsFile f = byTensor.get(name);
            if (f == null) {
                throw new IllegalArgumentException("no tensor '" + name + "' in " + files.size() + " shard(s)");
            }
            return f;
        }

        /** The tensor's bytes. */
        public MemorySegment data(String name) {
            SafetensorsFile f = file(name);
            return f.data(f.tensor(name).orElseThrow());
        }

        /** The whole tensor as floats. */
        public float[] toFloatArray(String name) {
            return file(name).toFloatArray(name);
        }

        /** Unmaps every shard, even when one fails (the first failure is thrown, the rest suppressed); idempotent. */
        @Override
        public void close() {
            closeAll(files);
        }
    }
}
