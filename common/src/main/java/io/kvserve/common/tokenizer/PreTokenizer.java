package io.kvserve.common.tokenizer;

import java.util.List;
import java.util.Locale;

/**
 * Splits text into pre-tokens that BPE then merges within, never across.
 *
 * <p>A pre-tokenizer is a sequence of regex splits with HF's {@code Isolated} behaviour: each
 * pattern is applied to every piece the previous one produced, a match becomes a piece and so does
 * each gap between matches. That is both HF's {@code Sequence[Split, ..., ByteLevel(use_regex=false)]}
 * and llama.cpp's {@code unicode_regex_split} with a list of expressions.
 *
 * <p>The known expressions run hand-compiled (see {@link PreTokenSplitter}); any other one runs on
 * {@link java.util.regex}. Java regex notes: {@code \s} needs {@code Pattern.UNICODE_CHARACTER_CLASS} to mean Unicode
 * White_Space as in Oniguruma/Rust (the flag also makes {@code (?i)} Unicode-aware); {@code \s+(?!\S)}
 * backtracks one char so the last space stays with the next word, as in the reference engines; a
 * matcher region has opaque bounds, so lookahead stops at the piece end exactly as on a substring.
 * None of the patterns nests quantifiers, so matching is linear per pre-token (no catastrophic
 * backtracking on long whitespace or punctuation runs).
 */
public final class PreTokenizer {
    /** HF ByteLevel(use_regex=true) and GPT-2: case-sensitive contractions, digits in runs. */
    public static final String GPT2_REGEX =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** Llama 3 (GGUF pre {@code llama-bpe}): case-insensitive contractions, digits in groups of up to 3. */
    public static final String LLAMA3_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2: Llama 3's expression with single digits. */
    public static final String QWEN2_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** HF {@code Digits(individual_digits=true)}. */
    public static final String SINGLE_DIGIT_REGEX = "\\p{N}";
    /** HF {@code Digits(individual_digits=false)}. */
    public static final String DIGIT_RUN_REGEX = "\\p{N}+";

    private final List<PreTokenSplitter> splitters;
    private final List<String> regexes;

    public PreTokenizer(List<String> regexes) {
        this.regexes = List.copyOf(regexes);
        this.splitters = this.regexes.stream().map(PreTokenSplitter::forRegex).toList();
    }

    public static PreTokenizer gpt2() {
        return new PreTokenizer(List.of(GPT2_REGEX));
    }

    public static PreTokenizer llama3() {
        return new PreTokenizer(List.of(LLAMA3_REGEX));
    }

    public static PreTokenizer qwen2() {
        return new PreTokenizer(List.of(QWEN2_REGEX));
    }

    /** SmolLM (GGUF pre {@code smollm}, HF {@code Sequence[Digits(individual), ByteLevel(use_regex)]}). */
    public static PreTokenizer smollm() {
        return new PreTokenizer(List.of(SINGLE_DIGIT_REGEX, GPT2_REGEX));
    }

    /** llama.cpp's regexes when {@code tokenizer.ggml.pre} is absent or {@code "default"}. */
    public static PreTokenizer llamaCppDefault() {
        return new PreTokenizer(List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_REGEX, DIGIT_RUN_REGEX, "[0-9][0-9][0-9]"));
    }

    /**
     * The pre-tokenizer for a GGUF {@code tokenizer.ggml.pre} value of a {@code gpt2} model, with the
     * names llama.cpp maps to the same expressions (src/llama-vocab.cpp).
     */
    public static PreTokenizer forGgufPre(String pre) {
        String name = pre == null ? "default" : pre.toLowerCase(Locale.ROOT);
        return switch (name) {
            case "default" -> llamaCppDefault();
            case "gpt-2", "gpt2", "mpt", "olmo", "jais" -> gpt2();
            case "llama3", "llama-v3", "llama-bpe", "falcon3" -> llama3();
            case "qwen2", "stablelm2" -> qwen2();
            case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b" -> smollm();
            default -> throw new TokenizerException("unsupported GGUF tokenizer.ggml.pre '" + pre
                    + "' (supported: default, gpt-2, mpt, olmo, jais, llama-bpe, llama3, llama-v3, falcon3, qwen2,"
                    + " stablelm2, smollm, starcoder, refact, command-r, codeshell, exaone, minerva-7b)");
        };
    }

    /** Whether llama.cpp emits a whole pre-token that is a vocabulary entry before merging (its LLAMA3 type). */
    static boolean ggufPreIgnoresMerges(String pre) {
        return pre != null && switch (pre.toLowerCase(Locale.ROOT)) {
            case "llama3", "llama-v3", "llama-bpe", "falcon3" -> true;
            default -> false;
        };
    }

    public List<String> regexes() {
        return regexes;
    }

    /** The (start, end) pairs of the pre-tokens of {@code text[start, end)}, in order. */
    IntList split(String text, int start, int end) {
        IntList current = new IntList(16);
        if (start >= end) {
            return current;
        }
        current.add(start);
        current.add(end);
        for (PreTokenSplitter splitter : splitters) {
            IntList next = new IntList(current.size() * 4);
            for (int i = 0; i < current.size(); i += 2) {
                splitter.split(text, current.get(i), current.get(i + 1), next);
            }
            current = next;
        }
        return current;
    }
}
