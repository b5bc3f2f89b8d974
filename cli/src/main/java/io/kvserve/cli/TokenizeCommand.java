package io.kvserve.cli;

import io.kvserve.common.model.ModelFile;
import io.kvserve.common.tokenizer.LoadedTokenizer;
import io.kvserve.common.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kvserve tokenize}: a model's tokenizer on the command line, both ways. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize text with a model's tokenizer (GGUF file or HF directory), or decode ids.",
                "Text comes from --text, --file, or standard input."})
final class TokenizeCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, description = "A .gguf file or a Hugging Face model directory.")
    Path model;

    @Option(names = "--text", description = "The text to tokenize.")
    String text;

    @Option(names = "--file", description = "A UTF-8 file to tokenize.")
    Path file;

    @Option(names = "--decode", split = ",", description = "Decode these comma-separated ids instead.")
    int[] decodeIds;

    @Option(names = "--specials",
            description = "Treat control tokens in the text (e.g. <|eot_id|>) as tokens and add BOS/EOS as the model does, as for a rendered chat prompt.")
    boolean specials;

    @Option(names = "--ids", description = "Print only the comma-separated ids.")
    boolean idsOnly;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try (ModelFile modelFile = ModelFile.open(model)) {
            LoadedTokenizer loaded = modelFile.tokenizer();
            Tokenizer tokenizer = loaded.tokenizer();
            if (decodeIds != null) {
                for (int id : decodeIds) {
                    if (id < 0 || id >= tokenizer.vocabSize()) {
                        throw new IllegalArgumentException("token id " + id + " is out of range 0.." + (tokenizer.vocabSize() - 1));
                    }
                }
                out.println(tokenizer.decode(decodeIds));
                out.flush();
                return 0;
            }
            String input = input();
            int[] ids = specials ? tokenizer.encodeWithSpecials(input) : tokenizer.encode(input);
            if (idsOnly) {
                out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(",")));
            } else {
                for (int id : ids) {
                    out.printf("%8d  %s%n", id, visible(tokenizer.tokenText(id)));
                }
                out.printf("%d tokens, %d bytes%n", ids.length, input.getBytes(StandardCharsets.UTF_8).length);
            }
            out.flush();
            return 0;
        }
    }

    private String input() throws IOException {
        if (text != null && file != null) {
            throw new IllegalArgumentException("give --text or --file, not both");
        }
        if (text != null) {
            return text;
        }
        if (file != null) {
            return Files.readString(file, StandardCharsets.UTF_8);
        }
        return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
    }

    private static String visible(String tokenText) {
        return "'" + tokenText.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'";
    }
}
