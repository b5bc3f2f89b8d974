package io.kvserve.engine.model;

import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelGenerator.WeightType;
import io.kvserve.common.model.gen.ModelPreset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Generated models and logits comparisons shared by the forward-pass tests. */
final class TestModels {

    private TestModels() {
    }

    /** The two architectures' tiny presets: llama (interleaved RoPE) and qwen2 (QKV bias, NeoX RoPE). */
    static Stream<ModelPreset> llamaAndQwen2() {
        return Stream.of(ModelPreset.TINY, ModelPreset.TINY_QWEN2);
    }

    /** {@code dir/PRESET-TYPE.gguf}, generated from {@code seed} on first use. */
    static Path gguf(Path dir, ModelPreset preset, WeightType type, long seed) throws IOException {
        Path file = dir.resolve(preset.name() + "-" + type + ".gguf");
        if (!Files.exists(file)) {
            new ModelGenerator(preset, seed).writeGguf(file, type);
        }
        return file;
    }

    /** Largest |a[i] - b[i]| over a's length (b at least as long). */
    static float maxAbsDiff(float[] a, float[] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
