package io.kvserve.cli;

import io.kvserve.common.model.ModelFile;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.common.tokenizer.Tokenizer.EncodeOptions;
import io.kvserve.engine.model.LlamaModel;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.ops.VectorTensorOps;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code kvserve generate}: greedy generation on the CPU engine for one prompt, with the logits
 * dump our llama.cpp comparison reads.
 *
 * <p>{@code --dump-logits FILE} writes raw little-endian float32 rows of vocabSize, no header:
 * <pre>
 *   rows 0..n-1      the prompt's teacher-forced rows (row i predicts the token after prompt[i])
 *   row  n-1+k       for each generated token g_k (k = 1..N): the row after feeding g_k
 *   = n + N rows; g_k is the argmax of the row before it, the last row picks no token
 * </pre>
 * the layout of {@code /work/llamacpp/tools/logits --gen N} (which, unlike this command, does not
 * stop at EOS).
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate tokens for one prompt on the CPU engine (greedy only in this version).",
                "A model is a .gguf file or a Hugging Face directory."})
final class GenerateCommand implements Callable<Integer> {

    /** Tokens fed per forward call while reading the prompt. */
    private static final int PREFILL_CHUNK = 128;

    @Option(names = {"-m", "--model"}, required = true, description = "A .gguf file or a Hugging Face model directory.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", description = "Prompt text, encoded with the model's tokenizer (BOS added as the model says).")
        String text;

        @Option(names = "--prompt-ids", split = ",", description = "Prompt token ids, used verbatim (no BOS added).")
        int[] ids;
    }

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "16", description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "Sampling temperature; only 0 (greedy) in this version.")
    double temperature;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (unused by greedy decoding).")
    long seed;

    @Option(names = {"-t", "--threads"}, description = "Matmul threads (default: available processors).")
    Integer threads;

    @Option(names = "--json", description = "Print one JSON object: prompt_ids, output_ids, text, timings.")
    boolean json;

    @Option(names = "--dump-logits", description = "Write every logits row (prompt rows, then one per generated token) as raw little-endian float32.")
    Path dumpLogits;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (temperature != 0) {
            throw new IllegalArgumentException("--temperature " + temperature
                    + ": only greedy (--temperature 0) in this version");
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("--max-tokens " + maxTokens + " must be >= 0");
        }
        int numThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (numThreads < 1) {
            throw new IllegalArgumentException("--threads " + numThreads + " must be >= 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (ModelFile modelFile = ModelFile.open(model);
             LlamaWeights weights = LlamaWeights.load(modelFile);
             VectorTensorOps ops = new VectorTensorOps(numThreads);
             FileChannel dump = dumpLogits == null ? null : FileChannel.open(dumpLogits, StandardOpenOption.CREATE,
                     StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            Tokenizer tokenizer = modelFile.tokenizer().tokenizer();
            int[] promptIds = prompt.ids != null ? prompt.ids : tokenizer.encode(prompt.text, EncodeOptions.PROMPT);
            int vocab = modelFile.config().vocabSize();
            int contextLength = modelFile.config().contextLength();
            if (promptIds.length == 0) {
                throw new IllegalArgumentException("the prompt is empty: give at least one token");
            }
            if (promptIds.length > contextLength) {
                throw new IllegalArgumentException("the prompt has " + promptIds.length + " tokens, the model's context "
                        + contextLength);
            }
            int maxSeqLen = (int) Math.min((long) promptIds.length + maxTokens, contextLength);
            LlamaModel llama = new LlamaModel(weights, ops, maxSeqLen, Math.min(PREFILL_CHUNK, promptIds.length));
            int chunk = llama.maxBatchTokens();
            float[] logits = new float[(dump != null ? chunk : 1) * vocab]; // (rows of this call, vocab)
            ByteBuffer row = ByteBuffer.allocate(vocab * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);

            long start = System.nanoTime();
            for (int begin = 0; begin < promptIds.length; begin += chunk) {
                int n = Math.min(chunk, promptIds.length - begin);
                int[] ids = Arrays.copyOfRange(promptIds, begin, begin + n);
                if (dump != null) {
                    llama.forward(ids, n, begin, logits);
                    for (int t = 0; t < n; t++) {
                        writeRow(dump, row, logits, t * vocab, vocab);
                    }
                    if (begin + n == promptIds.length) {
                        System.arraycopy(logits, (n - 1) * vocab, logits, 0, vocab);
                    }
                } else {
                    llama.forwardLast(ids, n, begin, logits);
                }
            }
            long prefillNanos = System.nanoTime() - start;

            OptionalInt eos = tokenizer.eosId();
            int[] outputIds = new int[maxSeqLen - promptIds.length];
            int numGenerated = 0;
            int[] next = new int[1];
            start = System.nanoTime();
            while (numGenerated < outputIds.length) {
                int token = ops.argmax(logits, 0, vocab);
                outputIds[numGenerated++] = token;
                boolean done = (eos.isPresent() && token == eos.getAsInt()) || numGenerated == outputIds.length;
                if (done && dump == null) {
                    break; // nothing will read this token's logits
                }
                next[0] = token;
                llama.forwardLast(next, 1, promptIds.length + numGenerated - 1, logits);
                if (dump != null) {
                    writeRow(dump, row, logits, 0, vocab);
                }
                if (done) {
                    break;
                }
            }
            long decodeNanos = System.nanoTime() - start;
            int[] generated = Arrays.copyOf(outputIds, numGenerated);
            String text = tokenizer.decode(generated, true);

            double promptMs = prefillNanos / 1e6;
            double decodeMs = decodeNanos / 1e6;
            double promptTps = promptIds.length / (prefillNanos / 1e9);
            double decodeTps = numGenerated == 0 ? 0 : numGenerated / (decodeNanos / 1e9);
            if (json) {
                JsonMapper mapper = JsonMapper.builder().build();
                ObjectNode root = mapper.createObjectNode();
                root.putPOJO("prompt_ids", promptIds);
                root.putPOJO("output_ids", generated);
                root.put("text", text);
                ObjectNode timings = root.putObject("timings");
                timings.put("prompt_ms", round(promptMs));
                timings.put("decode_ms", round(decodeMs));
                timings.put("prompt_tokens_per_s", round(promptTps));
                timings.put("decode_tokens_per_s", round(decodeTps));
                out.println(mapper.writeValueAsString(root));
            } else {
                out.println(text);
                spec.commandLine().getErr().printf(Locale.ROOT,
                        "prompt %d tokens in %.1f ms (%.1f tokens/s); generated %d tokens in %.1f ms (%.1f tokens/s); %d threads%n",
                        promptIds.length, promptMs, promptTps, numGenerated, decodeMs, decodeTps, numThreads);
            }
            out.flush();
            return 0;
        }
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    private static void writeRow(FileChannel dump, ByteBuffer row, float[] logits, int offset, int vocab) throws IOException {
        row.clear();
        row.asFloatBuffer().put(logits, offset, vocab);
        row.position(0).limit(vocab * Float.BYTES);
        while (row.hasRemaining()) {
            dump.write(row);
        }
    }
}
