package io.kvserve.cli;

import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.model.ModelFile;
import io.kvserve.engine.model.ForwardBatch;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.LlamaModel;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.model.PagedKvCache;
import io.kvserve.engine.ops.MemoryBandwidthProbe;
import io.kvserve.engine.ops.VectorTensorOps;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code kvserve bench}: the engine's prefill and decode throughput on one model file, measured the
 * way llama.cpp's {@code llama-bench} measures it, so the two can run side by side on the same file:
 * <ul>
 *   <li>{@code ppP}: P prompt tokens fed from position 0 in forward calls of at most {@code --ubatch}
 *       tokens, logits for the last one only (llama-bench's {@code pp512});</li>
 *   <li>{@code tgN}: N decode steps of one token from position 0 (llama-bench's {@code tg128});</li>
 *   <li>{@code tgN xS}: S sequences, each first fed {@code --batch-prompt} tokens (untimed), then N
 *       decode steps of S tokens each, one forward call per step; aggregate tokens/s = S N / time
 *       (llama-batched-bench's S_TG).</li>
 * </ul>
 * Token ids are drawn at random (fixed seed) as llama-bench does; nothing is sampled. Each test runs
 * once to warm up, then {@code -r} times; the figure is mean +- sample standard deviation of the
 * per-run tokens/s. The process's peak RSS (VmHWM) is reported, and with {@code --mem-bw} the machine's
 * read bandwidth, against which decode at one sequence is placed: each decode step reads every
 * weight once ({@link LlamaWeights#bytesReadPerToken()}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Prefill (ppP) and decode (tgN) throughput of the CPU engine on one model, like llama-bench,",
                "plus batched decode of several sequences (tgN xS), as a table or JSON."})
final class BenchCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, description = "A .gguf file or a Hugging Face model directory.")
    Path model;

    @Option(names = {"-t", "--threads"}, description = "Threads (default: available processors).")
    Integer threads;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", description = "Prompt tokens of the prefill test; 0 skips it (default ${DEFAULT-VALUE}).")
    int numPrompt;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "Decode steps of the decode tests; 0 skips them (default ${DEFAULT-VALUE}).")
    int numGen;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "5", description = "Timed runs per test, after one warm-up (default ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = "--batch", split = ",", defaultValue = "1,4,16",
            description = "Sequence counts of the batched decode tests; 0 skips them (default ${DEFAULT-VALUE}).")
    int[] batchSizes;

    @Option(names = "--batch-prompt", defaultValue = "32", description = "Prompt tokens per sequence before a batched decode (default ${DEFAULT-VALUE}).")
    int batchPrompt;

    @Option(names = "--ubatch", defaultValue = "512", description = "Most tokens per forward call (default ${DEFAULT-VALUE}, llama.cpp's n_ubatch).")
    int ubatch;

    @Option(names = "--kv-type", defaultValue = "f16", description = "KV cache type: f16 or f32 (default ${DEFAULT-VALUE}, as llama.cpp).")
    String kvType;

    @Option(names = "--mem-bw", description = "Also measure the machine's read bandwidth and report decode as a share of it.")
    boolean memoryBandwidth;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One test's runs. */
    record Result(String test, int numPrompt, int numGen, int numSeqs, double[] tokensPerSecond) {
        double mean() {
            return Arrays.stream(tokensPerSecond).average().orElse(0);
        }

        double stddev() {
            if (tokensPerSecond.length < 2) {
                return 0;
            }
            double mean = mean();
            double ss = 0;
            for (double v : tokensPerSecond) {
                ss += (v - mean) * (v - mean);
            }
            return Math.sqrt(ss / (tokensPerSecond.length - 1));
        }
    }

    @Override
    public Integer call() throws IOException {
        int numThreads = EngineOptions.numThreads(threads);
        check(numPrompt >= 0, "--n-prompt " + numPrompt + " must be >= 0");
        check(numGen >= 0, "--n-gen " + numGen + " must be >= 0");
        check(repetitions >= 1, "--repetitions " + repetitions + " must be >= 1");
        check(ubatch >= 1, "--ubatch " + ubatch + " must be >= 1");
        check(batchPrompt >= 1, "--batch-prompt " + batchPrompt + " must be >= 1");
        int[] seqCounts = Arrays.stream(batchSizes).filter(s -> s != 0).toArray();
        for (int s : seqCounts) {
            check(s >= 1, "--batch " + s + ": sequence counts must be >= 1 (0 skips the batched tests)");
        }
        KvCacheDtype dtype = EngineOptions.kvCacheDtype(kvType);

        List<Result> results = new ArrayList<>();
        long bytesPerToken;
        String architecture;
        try (ModelFile modelFile = ModelFile.open(model);
             LlamaWeights weights = LlamaWeights.load(modelFile);
             VectorTensorOps ops = new VectorTensorOps(numThreads)) {
            ModelConfig config = modelFile.config();
            architecture = config.architecture().toString();
            bytesPerToken = weights.bytesReadPerToken();
            int maxSeqs = Arrays.stream(seqCounts).max().orElse(1);
            int blockSize = 16;
            int batchPositions = seqCounts.length > 0 ? batchPrompt + numGen : 0;
            int maxPositions = Math.max(Math.max(numPrompt, numGen), batchPositions);
            check(maxPositions <= config.contextLength(), "the tests need " + maxPositions
                    + " positions, the model's context is " + config.contextLength());
            // the cache holds what the largest test needs: one sequence of max(p, n) positions, or
            // maxSeqs sequences of batchPrompt + n (llama-bench sizes its context per test the same way)
            int[] singleTable = blockRange(0, ceilDiv(Math.max(1, Math.max(numPrompt, numGen)), blockSize));
            int blocksPerSeq = ceilDiv(Math.max(1, batchPositions), blockSize);
            int[][] tables = new int[maxSeqs][];
            for (int s = 0; s < maxSeqs; s++) {
                tables[s] = blockRange(s * blocksPerSeq, blocksPerSeq);
            }
            int numBlocks = Math.max(singleTable.length, seqCounts.length > 0 ? maxSeqs * blocksPerSeq : 0);
            PagedKvCache cache = new PagedKvCache(config, numBlocks, blockSize, dtype);
            int maxBatchTokens = Math.max(1, Math.max(Math.min(ubatch, Math.max(numPrompt, batchPrompt)), maxSeqs));
            LlamaModel llama = new LlamaModel(weights, ops, cache, maxBatchTokens);
            float[] logits = new float[maxSeqs * config.vocabSize()]; // (maxSeqs, vocab): one row per sequence
            Random random = new Random(42);
            int vocab = config.vocabSize();

            if (numPrompt > 0) {
                results.add(run("pp" + numPrompt, numPrompt, 0, 1, numPrompt, () -> nanosOf(() ->
                        prefill(llama, singleTable, randomIds(random, numPrompt, vocab), 0, logits))));
            }
            if (numGen > 0) {
                results.add(run("tg" + numGen, 0, numGen, 1, numGen, () -> nanosOf(() ->
                        decode(llama, new int[][] {singleTable}, 1, 0, numGen, random, vocab, logits))));
                for (int numSeqs : seqCounts) {
                    int[][] seqTables = Arrays.copyOf(tables, numSeqs);
                    results.add(run("tg" + numGen + " x" + numSeqs, batchPrompt, numGen, numSeqs,
                            (long) numGen * numSeqs, () -> {
                        for (int s = 0; s < numSeqs; s++) {
                            prefill(llama, seqTables[s], randomIds(random, batchPrompt, vocab), 0, logits);
                        }
                        return nanosOf(() -> decode(llama, seqTables, numSeqs, batchPrompt, numGen, random, vocab,
                                logits)); // the decode alone is timed
                    }));
                }
            }
        }
        long maxRssBytes = maxRssBytes();
        double bandwidth = Double.NaN;
        if (memoryBandwidth) {
            try (MemoryBandwidthProbe probe = new MemoryBandwidthProbe(numThreads, 1L << 30)) {
                bandwidth = probe.medianGigabytesPerSecond(5);
            }
        }
        report(results, numThreads, dtype, architecture, bytesPerToken, maxRssBytes, bandwidth);
        return 0;
    }

    /** One run of a test; returns the nanoseconds of the part that counts (it times itself). */
    @FunctionalInterface
    private interface Body {
        long runNanos();
    }

    private static long nanosOf(Runnable work) {
        long start = System.nanoTime();
        work.run();
        return System.nanoTime() - start;
    }

    /** One warm-up run, then {@code repetitions} timed runs of {@code numTokensPerRun} tokens each. */
    private Result run(String test, int numPromptTokens, int numGenTokens, int numSeqs, long numTokensPerRun, Body body) {
        body.runNanos();
        double[] rates = new double[repetitions];
        for (int i = 0; i < repetitions; i++) {
            rates[i] = numTokensPerRun / (body.runNanos() / 1e9);
        }
        return new Result(test, numPromptTokens, numGenTokens, numSeqs, rates);
    }

    private static void prefill(LlamaModel llama, int[] blockTable, int[] ids, int startPosition, float[] logits) {
        int chunk = llama.maxBatchTokens();
        for (int begin = 0; begin < ids.length; begin += chunk) {
            int[] part = Arrays.copyOfRange(ids, begin, Math.min(ids.length, begin + chunk));
            llama.forward(ForwardBatch.single(part, startPosition + begin, blockTable), logits);
        }
    }

    /** {@code numSteps} decode steps of {@code numSeqs} sequences, one token each, from {@code startPosition}. */
    private static void decode(LlamaModel llama, int[][] tables, int numSeqs, int startPosition, int numSteps,
                               Random random, int vocab, float[] logits) {
        int[] seqStarts = new int[numSeqs + 1];
        Arrays.setAll(seqStarts, i -> i);
        int[] logitsIndices = Arrays.copyOf(seqStarts, numSeqs);
        int[][] seqTables = Arrays.copyOf(tables, numSeqs);
        int[] positions = new int[numSeqs];
        for (int step = 0; step < numSteps; step++) {
            Arrays.fill(positions, startPosition + step);
            llama.forward(new ForwardBatch(randomIds(random, numSeqs, vocab), seqStarts, positions, seqTables,
                    logitsIndices), logits);
        }
    }

    private static int[] randomIds(Random random, int n, int vocab) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return ids;
    }

    private void report(List<Result> results, int numThreads, KvCacheDtype dtype, String architecture,
                        long bytesPerToken, long maxRssBytes, double bandwidth) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        double decodeRate = results.stream().filter(r -> r.numSeqs() == 1 && r.numGen() > 0 && r.numPrompt() == 0)
                .mapToDouble(Result::mean).findFirst().orElse(Double.NaN);
        double decodeGbps = decodeRate * bytesPerToken / 1e9;
        long fileBytes = Files.isDirectory(model) ? -1 : Files.size(model);
        if (json) {
            JsonMapper mapper = JsonMapper.builder().build();
            ObjectNode root = mapper.createObjectNode();
            root.put("model", model.toString());
            root.put("architecture", architecture);
            root.put("file_bytes", fileBytes);
            root.put("threads", numThreads);
            root.put("kv_type", dtype.name().toLowerCase(Locale.ROOT));
            root.put("weight_bytes_per_token", bytesPerToken);
            ArrayNode tests = root.putArray("results");
            for (Result r : results) {
                ObjectNode node = tests.addObject();
                node.put("test", r.test());
                node.put("n_prompt", r.numPrompt());
                node.put("n_gen", r.numGen());
                node.put("n_seqs", r.numSeqs());
                node.put("avg_ts", round(r.mean()));
                node.put("stddev_ts", round(r.stddev()));
                ArrayNode samples = node.putArray("samples_ts");
                for (double v : r.tokensPerSecond()) {
                    samples.add(round(v));
                }
            }
            root.put("max_rss_bytes", maxRssBytes);
            if (!Double.isNaN(decodeRate)) {
                root.put("decode_weight_gbps", round(decodeGbps));
            }
            if (!Double.isNaN(bandwidth)) {
                root.put("memory_read_gbps", round(bandwidth));
                root.put("decode_bandwidth_fraction", round(decodeGbps / bandwidth));
            }
            out.println(mapper.writeValueAsString(root));
        } else {
            out.printf(Locale.ROOT, "model %s (%s, %.1f MiB), %d threads, KV %s, %.1f MB of weights read per decode step%n",
                    model, architecture, fileBytes / 1048576.0, numThreads, dtype, bytesPerToken / 1e6);
            out.printf(Locale.ROOT, "| %-14s | %20s |%n", "test", "t/s");
            out.printf(Locale.ROOT, "| %-14s | %20s |%n", "-".repeat(14), "-".repeat(20));
            for (Result r : results) {
                out.printf(Locale.ROOT, "| %-14s | %20s |%n", r.test(),
                        String.format(Locale.ROOT, "%.2f ± %.2f", r.mean(), r.stddev()));
            }
            out.printf(Locale.ROOT, "max RSS %.1f MiB%n", maxRssBytes / 1048576.0);
            if (!Double.isNaN(decodeRate)) {
                out.printf(Locale.ROOT, "decode at 1 sequence streams %.2f GB/s of weights", decodeGbps);
                if (!Double.isNaN(bandwidth)) {
                    out.printf(Locale.ROOT, ", %.0f%% of the measured read bandwidth %.2f GB/s",
                            100 * decodeGbps / bandwidth, bandwidth);
                }
                out.println();
            }
        }
        out.flush();
    }

    /** Peak resident set size of this process (VmHWM), -1 where /proc is absent. */
    static long maxRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    private static int[] blockRange(int first, int count) {
        int[] ids = new int[count];
        Arrays.setAll(ids, i -> first + i);
        return ids;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }
}
