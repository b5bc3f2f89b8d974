package io.kvserve.cli;

import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kvserve model ...}: generate and inspect model files. */
@Command(name = "model", description = "Generate and inspect model files (GGUF, safetensors).",
        subcommands = {ModelCommand.Generate.class, ModelCommand.Inspect.class, ModelCommand.Presets.class})
final class ModelCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = {"Write a random-weight model of a real model's shape, with a generated tokenizer.",
                    "The same preset and seed give the same model in GGUF and safetensors."})
    static final class Generate implements Callable<Integer> {

        @Option(names = "--preset", required = true, description = "Shape: ${COMPLETION-CANDIDATES}.",
                completionCandidates = PresetNames.class)
        String preset;

        @Option(names = "--type", defaultValue = "f16",
                description = "Weight type: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k (safetensors: f32, f16, bf16). Default: ${DEFAULT-VALUE}.")
        String type;

        @Option(names = "--format", defaultValue = "gguf", description = "gguf (one file) or safetensors (an HF directory). Default: ${DEFAULT-VALUE}.")
        String format;

        @Option(names = "--seed", defaultValue = "0", description = "Random seed. Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = {"-o", "--output"}, description = "Output file (gguf) or directory (safetensors). Default: models/PRESET-TYPE.gguf or models/PRESET-TYPE/.")
        Path output;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            ModelPreset shape = ModelPreset.byName(preset);
            ModelGenerator.WeightType weightType = ModelGenerator.WeightType.parse(type);
            String fmt = format.toLowerCase(Locale.ROOT);
            if (!fmt.equals("gguf") && !fmt.equals("safetensors")) {
                throw new IllegalArgumentException("--format must be gguf or safetensors, not '" + format + "'");
            }
            String baseName = shape.name() + "-" + weightType.name().toLowerCase(Locale.ROOT);
            Path out = output != null ? output : Path.of("models", fmt.equals("gguf") ? baseName + ".gguf" : baseName);
            long start = System.nanoTime();
            ModelGenerator generator = new ModelGenerator(shape, seed);
            if (fmt.equals("gguf")) {
                generator.writeGguf(out, weightType);
            } else {
                generator.writeHuggingFace(out, weightType);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            PrintWriter w = spec.commandLine().getOut();
            w.printf("%s  %s, %.1fM parameters, %s, seed %d, %s in %.1f s%n", out, shape.name(),
                    shape.numParameters() / 1e6, weightType.name().toLowerCase(Locale.ROOT), seed,
                    humanBytes(sizeOf(out)), seconds);
            return 0;
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Print a model's architecture, dimensions, tokenizer and tensors.")
    static final class Inspect implements Callable<Integer> {

        @Parameters(paramLabel = "MODEL", description = "A .gguf file or a Hugging Face model directory.")
        Path model;

        @Option(names = "--summary", description = "One line only.")
        boolean summary;

        @Option(names = "--tensors", description = "List every tensor.")
        boolean tensors;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            ModelInspection.print(model, summary, tensors, spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(name = "presets", mixinStandardHelpOptions = true, description = "List the shapes `model generate` knows.")
    static final class Presets implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter w = spec.commandLine().getOut();
            w.printf("%-14s %-6s %6s %6s %6s %6s %6s %8s %9s%n", "preset", "arch", "dim", "ffn", "layers", "heads", "kv", "vocab", "params");
            for (ModelPreset p : ModelPreset.ALL) {
                w.printf("%-14s %-6s %6d %6d %6d %6d %6d %8d %8.1fM%n", p.name(), p.architecture(), p.dim(), p.hiddenDim(),
                        p.numLayers(), p.numHeads(), p.numKvHeads(), p.vocabSize(), p.numParameters() / 1e6);
            }
            return 0;
        }
    }

    static final class PresetNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ModelPreset.ALL.stream().map(ModelPreset::name).iterator();
        }
    }

    static long sizeOf(Path path) throws java.io.IOException {
        if (Files.isDirectory(path)) {
            try (var files = Files.walk(path)) {
                return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
            }
        }
        return Files.size(path);
    }

    static String humanBytes(long bytes) {
        if (bytes < 1 << 20) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1L << 30) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
