package io.kvserve.cli;

import io.kvserve.common.model.ModelFile;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.common.tokenizer.Tokenizer.EncodeOptions;
import io.kvserve.engine.EngineConfig;
import io.kvserve.engine.EngineRequest;
import io.kvserve.engine.FinishReason;
import io.kvserve.engine.LlmEngine;
import io.kvserve.engine.RequestOutput;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.LlamaModel;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.ops.VectorTensorOps;
import io.kvserve.engine.sample.SamplingParams;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code kvserve generate}: one prompt through the CPU engine ({@link LlmEngine}: the same step loop,
 * scheduler and sampler that serve requests), its text streamed to stdout, or one JSON object.
 *
 * <p>With {@code --dump-logits} it runs the model directly instead (greedy only), because the dump
 * wants every prompt row, which the engine does not compute (it samples from the last row only):
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
        description = {"Generate tokens for one prompt on the CPU engine, streaming the text.",
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

    @Option(names = "--temperature", defaultValue = "0", description = "Sampling temperature; 0 is greedy (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--seed", description = "Sampling seed: the same seed gives the same tokens (default: random).")
    Long seed;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens; 0 keeps all (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling threshold in (0, 1] (default ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--min-p", defaultValue = "0", description = "Drop tokens less likely than min-p times the most likely (default ${DEFAULT-VALUE}).")
    double minP;

    @Option(names = "--presence-penalty", defaultValue = "0", description = "OpenAI presence penalty, -2..2 (default ${DEFAULT-VALUE}).")
    double presencePenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0", description = "OpenAI frequency penalty, -2..2 (default ${DEFAULT-VALUE}).")
    double frequencyPenalty;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "CTRL repetition penalty, 1 disables it (default ${DEFAULT-VALUE}).")
    double repetitionPenalty;

    @Option(names = "--stop", description = "A stop string (repeatable); the text ends before it.")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Keep generating past the model's end-of-sequence token.")
    boolean ignoreEos;

    @Option(names = "--kv-type", defaultValue = "f32", description = "KV cache type: f32 or f16 (default ${DEFAULT-VALUE}).")
    String kvType;

    @Option(names = {"-t", "--threads"}, description = "Matmul threads (default: available processors).")
    Integer threads;

    @Option(names = "--json", description = "Print one JSON object: prompt_ids, output_ids, text, timings.")
    boolean json;

    @Option(names = "--dump-logits", description = "Write every logits row (prompt rows, then one per generated token) as raw little-endian float32.")
    Path dumpLogits;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("--max-tokens " + maxTokens + " must be >= 0");
        }
        int numThreads = EngineOptions.numThreads(threads);
        if (dumpLogits != null && temperature != 0) {
            throw new IllegalArgumentException("--dump-logits runs greedy decoding only: use --temperature 0");
        }
        KvCacheDtype dtype = EngineOptions.kvCacheDtype(kvType);
        try (ModelFile modelFile = ModelFile.open(model);
             LlamaWeights weights = LlamaWeights.load(modelFile);
             VectorTensorOps ops = new VectorTensorOps(numThreads)) {
            Tokenizer tokenizer = modelFile.tokenizer().tokenizer();
            int[] promptIds = prompt.ids != null ? prompt.ids : tokenizer.encode(prompt.text, EncodeOptions.PROMPT);
            if (promptIds.length == 0) {
                throw new IllegalArgumentException("the prompt is empty: give at least one token");
            }
            if (promptIds.length > modelFile.config().contextLength()) {
                throw new IllegalArgumentException("the prompt has " + promptIds.length + " tokens, the model's context "
                        + modelFile.config().contextLength());
            }
            if (dumpLogits != null || maxTokens == 0) {
                return dumpLogitsRun(modelFile, weights, ops, tokenizer, promptIds, numThreads);
            }
            return engineRun(modelFile, weights, ops, tokenizer, promptIds, numThreads, dtype);
        }
    }

    /** Through the engine: sampling, stop strings and the streamed text as a server would produce them. */
    private int engineRun(ModelFile modelFile, LlamaWeights weights, VectorTensorOps ops, Tokenizer tokenizer,
                          int[] promptIds, int numThreads, KvCacheDtype dtype) throws InterruptedException {
        SamplingParams.Builder params = SamplingParams.builder().maxTokens(maxTokens).temperature(temperature)
                .topK(topK).topP(topP).minP(minP).presencePenalty(presencePenalty).frequencyPenalty(frequencyPenalty)
                .repetitionPenalty(repetitionPenalty).stop(stop).ignoreEos(ignoreEos);
        if (seed != null) {
            params.seed(seed);
        }
        SamplingParams samplingParams = params.build();
        int contextLength = modelFile.config().contextLength();
        int maxModelLen = (int) Math.min((long) promptIds.length + maxTokens + 1, contextLength);
        int blockSize = 16;
        EngineConfig config = EngineConfig.builder().maxNumSeqs(1).maxNumBatchedTokens(PREFILL_CHUNK * 4)
                .blockSize(blockSize).numKvBlocks((maxModelLen + blockSize - 1) / blockSize + 1).kvCacheDtype(dtype)
                .maxModelLen(Math.max(2, maxModelLen)).build();
        PrintWriter out = spec.commandLine().getOut();
        LinkedBlockingQueue<RequestOutput> outputs = new LinkedBlockingQueue<>();
        List<Integer> outputIds = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        RequestOutput last;
        try (LlmEngine engine = new LlmEngine(weights, tokenizer, ops, config, event -> { })) {
            engine.submit(EngineRequest.of("generate", promptIds, samplingParams), outputs::add);
            do {
                last = outputs.take();
                for (int id : last.newTokenIds()) {
                    outputIds.add(id);
                }
                text.append(last.text());
                if (!json && !last.text().isEmpty()) {
                    out.print(last.text());
                    out.flush();
                }
            } while (!last.finished());
        }
        if (last.finishReason() == FinishReason.ERROR) {
            throw new IllegalStateException("the engine failed while generating; see the log above");
        }
        RequestOutput.Timings t = last.timings();
        double promptMs = (t.firstTokenNanos() - t.firstScheduledNanos()) / 1e6;
        double decodeMs = t.lastTokenNanos() > t.firstTokenNanos() ? (t.lastTokenNanos() - t.firstTokenNanos()) / 1e6 : 0;
        int numGenerated = outputIds.size();
        double promptTps = promptIds.length / (promptMs / 1e3);
        double decodeTps = numGenerated > 1 && decodeMs > 0 ? (numGenerated - 1) / (decodeMs / 1e3) : 0;
        int[] generated = outputIds.stream().mapToInt(Integer::intValue).toArray();
        if (json) {
            JsonMapper mapper = JsonMapper.builder().build();
            ObjectNode root = mapper.createObjectNode();
            root.putPOJO("prompt_ids", promptIds);
            root.putPOJO("output_ids", generated);
            root.put("text", text.toString());
            root.put("finish_reason", last.finishReason().name().toLowerCase(Locale.ROOT));
            ObjectNode timings = root.putObject("timings");
            timings.put("prompt_ms", round(promptMs));
            timings.put("decode_ms", round(decodeMs));
            timings.put("prompt_tokens_per_s", round(promptTps));
            timings.put("decode_tokens_per_s", round(decodeTps));
            out.println(mapper.writeValueAsString(root));
        } else {
            out.println();
            spec.commandLine().getErr().printf(Locale.ROOT,
                    "prompt %d tokens in %.1f ms (%.1f tokens/s); generated %d tokens (%s), then %.1f tokens/s; %d threads%n",
                    promptIds.length, promptMs, promptTps, numGenerated,
                    last.finishReason().name().toLowerCase(Locale.ROOT), decodeTps, numThreads);
        }
        out.flush();
        return 0;
    }

    /** The model directly, greedy, every logits row written: the llama.cpp comparison's path. */
    private int dumpLogitsRun(ModelFile modelFile, LlamaWeights weights, VectorTensorOps ops, Tokenizer tokenizer,
                              int[] promptIds, int numThreads) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        int vocab = modelFile.config().vocabSize();
        int contextLength = modelFile.config().contextLength();
        try (FileChannel dump = dumpLogits == null ? null : FileChannel.open(dumpLogits, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
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
