package io.kvserve.common.model;

import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufValueType;
import io.kvserve.common.safetensors.HfModelDirectory;
import io.kvserve.common.tokenizer.GgufTokenizerData;
import io.kvserve.common.tokenizer.GgufTokenizerLoader;
import io.kvserve.common.tokenizer.HfTokenizerLoader;
import io.kvserve.common.tokenizer.LoadedTokenizer;
import io.kvserve.common.tokenizer.TokenizerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A model as a user names it: a {@code .gguf} file or a Hugging Face directory. Gives the
 * {@link ModelConfig} and the tokenizer the same way for both, so the engine and the scheduler load
 * one model through one path. Closing it unmaps the files.
 */
public final class ModelFile implements AutoCloseable {

    /** How the model is stored. */
    public enum Format { GGUF, SAFETENSORS }

    private final Path path;
    private final GgufFile gguf;
    private final HfModelDirectory hf;
    private final ModelConfig config;

    private ModelFile(Path path, GgufFile gguf, HfModelDirectory hf, ModelConfig config) {
        this.path = path;
        this.gguf = gguf;
        this.hf = hf;
        this.config = config;
    }

    /** Opens {@code path}: a GGUF file, or a directory with {@code config.json} and safetensors weights. */
    public static ModelFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            HfModelDirectory hf = HfModelDirectory.open(path);
            return new ModelFile(path, null, hf, hf.modelConfig());
        }
        if (!Files.isRegularFile(path)) {
            throw new java.io.FileNotFoundException(path + ": no such model file or directory");
        }
        GgufFile gguf = GgufFile.open(path);
        try {
            return new ModelFile(path, gguf, null, ModelConfig.fromGguf(gguf));
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public Format format() {
        return gguf != null ? Format.GGUF : Format.SAFETENSORS;
    }

    public ModelConfig config() {
        return config;
    }

    /** The GGUF file, when this model is one. */
    public Optional<GgufFile> gguf() {
        return Optional.ofNullable(gguf);
    }

    /** The HF directory, when this model is one. */
    public Optional<HfModelDirectory> huggingFace() {
        return Optional.ofNullable(hf);
    }

    /** The model's tokenizer and chat template. */
    /**
     * The model's tokenizer and chat template.
     *
     * @throws TokenizerException naming the GGUF file or tokenizer.json when the tokenizer is invalid
     */
    public LoadedTokenizer tokenizer() throws IOException {
        if (gguf != null) {
            GgufTokenizerData data = tokenizerData(gguf);
            try {
                return GgufTokenizerLoader.load(data);
            } catch (TokenizerException e) {
                throw withFile(gguf.path(), e);
            }
        }
        Path tokenizerJson = hf.tokenizerJson().orElseThrow(() ->
                new IOException(path + ": no tokenizer.json in the model directory"));
        try {
            return HfTokenizerLoader.load(tokenizerJson, hf.tokenizerConfigJson().orElse(null));
        } catch (TokenizerException e) {
            throw withFile(tokenizerJson, e);
        }
    }

    /** {@code e} with {@code file} in front of its message, unless the loader already named a file of the model. */
    private TokenizerException withFile(Path file, TokenizerException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains(file.toString()) || message.contains(path.toString())) {
            return e;
        }
        return new TokenizerException(file + ": " + message, e);
    }

    /** Reads the {@code tokenizer.*} keys of a GGUF file, as llama.cpp's converter writes them. */
    public static GgufTokenizerData tokenizerData(GgufFile gguf) throws IOException {
        String model = gguf.string("tokenizer.ggml.model").orElseThrow(() ->
                new IOException(gguf.path() + ": no tokenizer.ggml.model key; the file carries no tokenizer"));
        List<String> tokens = gguf.stringArray("tokenizer.ggml.tokens");
        if (tokens.isEmpty()) {
            throw new IOException(gguf.path() + ": tokenizer.ggml.tokens is missing or empty");
        }
        return new GgufTokenizerData(
                model,
                gguf.string("tokenizer.ggml.pre").orElse(null),
                tokens,
                gguf.array("tokenizer.ggml.scores").isPresent() ? gguf.floatArray("tokenizer.ggml.scores") : null,
                gguf.array("tokenizer.ggml.token_type").isPresent() ? gguf.intArray("tokenizer.ggml.token_type") : null,
                gguf.array("tokenizer.ggml.merges").isPresent() ? gguf.stringArray("tokenizer.ggml.merges") : null,
                optionalId(gguf, "tokenizer.ggml.bos_token_id", tokens.size()),
                optionalId(gguf, "tokenizer.ggml.eos_token_id", tokens.size()),
                optionalId(gguf, "tokenizer.ggml.unknown_token_id", tokens.size()),
                optionalId(gguf, "tokenizer.ggml.padding_token_id", tokens.size()),
                gguf.bool("tokenizer.ggml.add_bos_token").orElse(null),
                gguf.bool("tokenizer.ggml.add_eos_token").orElse(null),
                gguf.bool("tokenizer.ggml.add_space_prefix").orElse(null),
                gguf.string("tokenizer.chat_template").orElse(null));
    }

    /** The token id at {@code key}, if present; it must lie in {@code [0, numTokens)}. */
    private static OptionalInt optionalId(GgufFile gguf, String key, int numTokens) throws IOException {
        OptionalLong id = gguf.integer(key);
        if (id.isEmpty()) {
            return OptionalInt.empty();
        }
        long v = id.getAsLong();
        if (v < 0 || v >= numTokens) {
            boolean unsigned64 = gguf.value(key).map(value -> value.type() == GgufValueType.UINT64).orElse(false);
            throw new IOException(gguf.path() + ": " + key + " = " + (unsigned64 ? Long.toUnsignedString(v) : v)
                    + " is not a token id: tokenizer.ggml.tokens has " + numTokens + " tokens (ids 0.." + (numTokens - 1) + ")");
        }
        return OptionalInt.of((int) v);
    }

    @Override
    public void close() {
        if (gguf != null) {
            gguf.close();
        }
    }
}
