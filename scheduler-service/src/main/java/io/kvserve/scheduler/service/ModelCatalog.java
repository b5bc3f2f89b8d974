package io.kvserve.scheduler.service;

import io.kvserve.common.chat.ChatTemplate;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.tokenizer.LoadedTokenizer;
import io.kvserve.common.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The tokenizer and chat template of every model the scheduler places, loaded from the same model
 * files the instances serve, so the prompt ids and block hashes it predicts are the engine's.
 */
public final class ModelCatalog implements AutoCloseable {

    /** One model's prompt pipeline. */
    public record Model(String name, Tokenizer tokenizer, Optional<ChatTemplate> chatTemplate, int contextLength) {
    }

    private final Map<String, Model> models = new HashMap<>();
    private final Map<String, ModelFile> files = new HashMap<>();

    public ModelCatalog(Map<String, Path> paths) {
        paths.forEach((name, path) -> {
            try {
                ModelFile file = ModelFile.open(path);
                LoadedTokenizer tokenizer = file.tokenizer();
                Optional<ChatTemplate> template = tokenizer.compiledChatTemplate();
                files.put(name, file);
                models.put(name, new Model(name, tokenizer.tokenizer(), template, file.config().contextLength()));
            } catch (IOException e) {
                throw new UncheckedIOException("scheduler.models." + name + "=" + path + ": " + e.getMessage(), e);
            }
        });
    }

    public Optional<Model> model(String name) {
        return Optional.ofNullable(models.get(name));
    }

    public Set<String> names() {
        return models.keySet();
    }

    @Override
    public void close() {
        files.values().forEach(ModelFile::close);
    }
}
