package io.kvserve.inference;

import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Models the server tests run on: generated once per JVM, real GGUF files with random weights. */
public final class TestModels {

    private static Path tiny;

    private TestModels() {
    }

    /** The {@code tiny} preset (llama, vocabulary 1024, a chat template) as an F32 GGUF file. */
    public static synchronized Path tinyGguf() {
        if (tiny == null) {
            try {
                Path dir = Files.createTempDirectory("kvserve-server-test");
                dir.toFile().deleteOnExit();
                Path file = dir.resolve("tiny.gguf");
                new ModelGenerator(ModelPreset.TINY, 42).writeGguf(file, ModelGenerator.WeightType.F32);
                file.toFile().deleteOnExit();
                tiny = file;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tiny;
    }
}
