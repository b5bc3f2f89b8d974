package io.kvserve.common.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Deterministic English-like words and mixed text (prose, code, CJK), so synthetic vocabularies
 * learn pieces that real-looking text then uses, and benchmarks have reproducible input.
 */
public final class SyntheticText {
    static final List<String> COMMON_WORDS = List.of(
            "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
            "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
            "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when",
            "will", "would", "who", "so", "no", "she", "other", "its", "may", "these", "about", "what", "out", "them",
            "into", "time", "only", "some", "could", "new", "than", "first", "two", "like", "then", "do", "any",
            "my", "now", "such", "over", "our", "man", "me", "even", "most", "made", "after", "also", "did", "many",
            "before", "must", "through", "back", "years", "where", "much", "your", "way", "well", "down", "should",
            "because", "each", "just", "those", "people", "how", "too", "little", "state", "good", "very", "make",
            "world", "still", "own", "see", "men", "work", "long", "get", "here", "between", "both", "life", "being",
            "under", "never", "day", "same", "another", "know", "while", "last", "might", "us", "great", "old",
            "year", "off", "come", "since", "against", "go", "came", "right", "used", "take", "three", "model",
            "token", "server", "request", "cache", "data", "value", "return", "function", "class", "public",
            "static", "void", "int", "string", "import", "def", "self", "true", "false", "null", "none", "print",
            "hello", "please", "thank", "question", "answer", "user", "assistant", "system", "help", "write");
    private static final String[] ONSETS = {"", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r",
        "s", "t", "v", "w", "y", "z", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gr", "pl", "pr", "sh", "sk", "sl",
        "sp", "st", "str", "th", "tr", "wh"};
    private static final String[] NUCLEI = {"a", "e", "i", "o", "u", "ai", "ea", "ee", "ie", "oo", "ou", "y"};
    private static final String[] CODAS = {"", "", "", "n", "r", "s", "t", "l", "m", "nd", "ng", "nt", "rd", "st",
        "ck", "ss", "ll", "x"};
    private static final String[] CODE_LINES = {
        "public static int main(String[] args) {\n", "    return value + 1;\n", "}\n",
        "for (int i = 0; i < n; i++) {\n", "\tif (x == null) throw new IllegalStateException(\"bad\");\n",
        "def forward(self, x):\n", "        return self.w2(F.silu(self.w1(x)) * self.w3(x))\n",
        "import numpy as np\n", "    // 128 KiB per block, 16 tokens\n", "x = [1, 2, 3, 4096, 65536]\n",
        "SELECT id, name FROM users WHERE age >= 21;\n", "{\"role\": \"user\", \"content\": \"hi\"}\n"};

    private SyntheticText() {
    }

    /** A lexicon of {@code size} distinct words: the common English words first, then syllable words. */
    public static List<String> lexicon(int size, long seed) {
        LinkedHashSet<String> words = new LinkedHashSet<>(COMMON_WORDS);
        SplittableRandom random = new SplittableRandom(seed);
        while (words.size() < size) {
            StringBuilder word = new StringBuilder();
            int syllables = 1 + random.nextInt(3);
            for (int s = 0; s < syllables; s++) {
                word.append(ONSETS[random.nextInt(ONSETS.length)]).append(NUCLEI[random.nextInt(NUCLEI.length)])
                        .append(CODAS[random.nextInt(CODAS.length)]);
            }
            words.add(word.toString());
        }
        return new ArrayList<>(words).subList(0, size);
    }

    /** Common CJK ideographs (a deterministic subset of U+4E00..U+9FFF) plus hiragana and katakana. */
    public static List<String> cjkCharacters(int count, long seed) {
        LinkedHashSet<String> chars = new LinkedHashSet<>();
        for (int cp = 0x3041; cp <= 0x3093 && chars.size() < count; cp++) {
            chars.add(Character.toString(cp));
        }
        for (int cp = 0x30A1; cp <= 0x30F3 && chars.size() < count; cp++) {
            chars.add(Character.toString(cp));
        }
        Random random = new Random(seed);
        while (chars.size() < count) {
            chars.add(Character.toString(0x4E00 + random.nextInt(0x5200)));
        }
        return new ArrayList<>(chars);
    }

    /**
     * About {@code numChars} chars of mixed text: 80% English-like prose (Zipf-distributed words,
     * punctuation, numbers, newlines), 12% code, 8% CJK. Same seed, same text.
     */
    public static String mixed(int numChars, long seed) {
        List<String> words = lexicon(20_000, seed);
        List<String> cjk = cjkCharacters(2_000, seed);
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        StringBuilder out = new StringBuilder(numChars + 256);
        while (out.length() < numChars) {
            int kind = random.nextInt(100);
            if (kind < 80) {
                int numWords = 5 + random.nextInt(20);
                for (int w = 0; w < numWords; w++) {
                    String word = words.get(zipf(random, words.size()));
                    if (w == 0) {
                        word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
                    } else {
                        out.append(' ');
                    }
                    out.append(word);
                    int r = random.nextInt(40);
                    if (r == 0) {
                        out.append(',');
                    } else if (r == 1) {
                        out.append(' ').append(random.nextInt(10_000));
                    } else if (r == 2) {
                        out.append("'s");
                    }
                }
                out.append(random.nextInt(8) == 0 ? "?" : ".").append(random.nextInt(4) == 0 ? "\n\n" : " ");
            } else if (kind < 92) {
                out.append(CODE_LINES[random.nextInt(CODE_LINES.length)]);
            } else {
                int numChars2 = 10 + random.nextInt(30);
                for (int c = 0; c < numChars2; c++) {
                    out.append(cjk.get(zipf(random, cjk.size())));
                }
                out.append("。\n");
            }
        }
        return out.toString();
    }

    /** A rank in [0, n) with probability roughly 1/(rank+1) (cheap inverse-CDF approximation). */
    static int zipf(SplittableRandom random, int n) {
        double u = random.nextDouble();
        int rank = (int) Math.floor(Math.exp(u * Math.log(n + 1.0))) - 1;
        return Math.min(Math.max(rank, 0), n - 1);
    }
}
