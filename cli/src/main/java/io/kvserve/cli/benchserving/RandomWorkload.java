package io.kvserve.cli.benchserving;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The control workload: every prompt is drawn afresh, so no two requests share a prefix longer than a
 * few tokens and a prefix cache has nothing to reuse. Text prompts are words from a fixed list of
 * common English words, each of which is one token (with its leading space) in the Llama 3, Qwen 2 and
 * GPT-2 style BPE vocabularies, so {@code inputLen} words come to about {@code inputLen} tokens (the
 * chat template adds its own few). With ids, {@code inputLen} ids are drawn from the middle 80% of the
 * vocabulary, away from the ends where tokenizers keep byte and special tokens.
 */
final class RandomWorkload implements Workload {

    static final String[] WORDS = {
        "the", "of", "and", "to", "in", "is", "was", "that", "for", "on", "with", "as", "by", "at", "from",
        "his", "her", "they", "this", "which", "or", "had", "not", "but", "are", "have", "one", "all", "were",
        "their", "when", "there", "been", "new", "more", "time", "some", "can", "would", "two", "first", "after",
        "city", "world", "year", "house", "water", "light", "night", "music", "river", "market", "story",
        "school", "family", "garden", "paper", "window", "table", "summer", "winter", "morning", "people",
        "number", "history", "country", "system", "program", "question", "government", "company", "group",
        "problem", "service", "power", "money", "court", "church", "road", "field", "game", "line", "order",
        "name", "area", "state", "force", "mountain", "island", "station", "letter", "friend", "horse",
        "green", "small", "large", "early", "great", "young", "public", "local", "short", "under", "between",
    };

    private final long seed;
    private final int inputLen;
    private final int outputLen;
    private final boolean promptIds;
    private final int vocabSize;

    /**
     * @param vocabSize the model's vocabulary size; used only with {@code promptIds}
     */
    RandomWorkload(long seed, int inputLen, int outputLen, boolean promptIds, int vocabSize) {
        if (inputLen < 1 || outputLen < 1) {
            throw new IllegalArgumentException("--input-len " + inputLen + " and --output-len " + outputLen + " must be >= 1");
        }
        if (promptIds && vocabSize < 10) {
            throw new IllegalArgumentException("--vocab-size " + vocabSize + " must be >= 10");
        }
        this.seed = seed;
        this.inputLen = inputLen;
        this.outputLen = outputLen;
        this.promptIds = promptIds;
        this.vocabSize = vocabSize;
    }

    @Override
    public String name() {
        return "random";
    }

    @Override
    public java.util.Map<String, Object> params() {
        java.util.Map<String, Object> params = new java.util.LinkedHashMap<>();
        params.put("input_len", inputLen);
        params.put("output_len", outputLen);
        params.put("prompt_ids", promptIds);
        return params;
    }

    @Override
    public BenchRequest request(int index) {
        // one stream per request, split from the seed by index: request i does not depend on how many came before
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        if (promptIds) {
            int low = vocabSize / 10;
            int high = vocabSize - vocabSize / 10;
            List<Integer> ids = new ArrayList<>(inputLen);
            for (int i = 0; i < inputLen; i++) {
                ids.add(random.nextInt(low, high));
            }
            return new BenchRequest(index, "", ids, inputLen, outputLen);
        }
        StringBuilder text = new StringBuilder(inputLen * 7);
        for (int i = 0; i < inputLen; i++) {
            if (i > 0) {
                text.append(' ');
            }
            text.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return new BenchRequest(index, text.toString(), null, inputLen, outputLen);
    }
}
