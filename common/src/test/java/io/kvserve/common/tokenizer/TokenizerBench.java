package io.kvserve.common.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.kvserve.common.tokenizer.SyntheticVocab.Family;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Tokenizer throughput: encode and decode MB/s per synthetic family, and the HF Rust tokenizer's
 * encode MB/s (through DJL) on the same chunks in the same JVM. Not a test; lives in src/test because
 * DJL is a test dependency.
 *
 * <pre>
 * ./mvnw -q -B -o -pl common test-compile org.codehaus.mojo:exec-maven-plugin:3.6.2:java \
 *   -Dexec.mainClass=io.kvserve.common.tokenizer.TokenizerBench -Dexec.classpathScope=test \
 *   -Dexec.args="--mb 20 --runs 5"
 * </pre>
 * Options: {@code --mb} text size (default 20), {@code --runs} timed runs per figure after one
 * warm-up (default 5, median reported), {@code --chunk-kb} request size the text is cut into
 * (default 64), {@code --families} comma list (default all), {@code --no-djl}.
 */
public final class TokenizerBench {
    private TokenizerBench() {
    }

    public static void main(String[] args) throws Exception {
        int megabytes = 20;
        int runs = 5;
        int chunkKb = 64;
        boolean djl = true;
        List<Family> families = new ArrayList<>(List.of(Family.LLAMA3, Family.QWEN2, Family.SMOLLM2));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mb" -> megabytes = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--chunk-kb" -> chunkKb = Integer.parseInt(args[++i]);
                case "--no-djl" -> djl = false;
                case "--families" -> families = Arrays.stream(args[++i].split(","))
                        .map(s -> Family.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String text = SyntheticText.mixed(megabytes << 20, 2024);
        List<String> chunks = new ArrayList<>();
        for (int start = 0; start < text.length(); start += chunkKb << 10) {
            chunks.add(text.substring(start, Math.min(text.length(), start + (chunkKb << 10))));
        }
        double textMb = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
        System.out.printf(Locale.ROOT, "text: %.1f MB UTF-8 (%d chars) in %d chunks of %d KiB; %d runs, median; %s, %d cpus%n",
                textMb, text.length(), chunks.size(), chunkKb, runs, Runtime.version(),
                Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "%-8s %8s %10s %12s %12s %12s %8s%n", "family", "vocab", "tokens",
                "encode MB/s", "decode MB/s", "hf enc MB/s", "ratio");
        Path dir = Files.createTempDirectory("kvserve-bench");
        for (Family family : families) {
            SyntheticVocab vocab = SyntheticVocab.generate(family, 42);
            Path familyDir = dir.resolve(family.name());
            vocab.writeHuggingFace(familyDir);
            Tokenizer tokenizer = HfTokenizerLoader.load(familyDir.resolve("tokenizer.json"), null).tokenizer();

            int[][] ids = new int[chunks.size()][];
            double[] encodeSeconds = new double[runs];
            for (int run = -1; run < runs; run++) {
                long start = System.nanoTime();
                for (int c = 0; c < chunks.size(); c++) {
                    ids[c] = tokenizer.encode(chunks.get(c));
                }
                if (run >= 0) {
                    encodeSeconds[run] = (System.nanoTime() - start) / 1e9;
                }
            }
            long numTokens = Arrays.stream(ids).mapToLong(a -> a.length).sum();
            double[] decodeSeconds = new double[runs];
            long checksum = 0;
            for (int run = -1; run < runs; run++) {
                long start = System.nanoTime();
                for (int[] chunkIds : ids) {
                    checksum += tokenizer.decode(chunkIds).length();
                }
                if (run >= 0) {
                    decodeSeconds[run] = (System.nanoTime() - start) / 1e9;
                }
            }
            double hfMbPerSecond = Double.NaN;
            if (djl) {
                try (HuggingFaceTokenizer reference = HuggingFaceTokenizer.builder()
                        .optTokenizerPath(familyDir.resolve("tokenizer.json"))
                        .optAddSpecialTokens(false).optTruncation(false).build()) {
                    double[] hfSeconds = new double[runs];
                    for (int run = -1; run < runs; run++) {
                        long start = System.nanoTime();
                        for (String chunk : chunks) {
                            checksum += reference.encode(chunk, false, false).getIds().length;
                        }
                        if (run >= 0) {
                            hfSeconds[run] = (System.nanoTime() - start) / 1e9;
                        }
                    }
                    hfMbPerSecond = textMb / median(hfSeconds);
                }
            }
            double encodeMbPerSecond = textMb / median(encodeSeconds);
            System.out.printf(Locale.ROOT, "%-8s %8d %10d %12.1f %12.1f %12.1f %8.2f%n", family, tokenizer.vocabSize(),
                    numTokens, encodeMbPerSecond, textMb / median(decodeSeconds), hfMbPerSecond,
                    encodeMbPerSecond / hfMbPerSecond);
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
