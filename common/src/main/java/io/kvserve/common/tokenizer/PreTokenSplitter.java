package io.kvserve.common.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One split step of a {@link PreTokenizer}: appends the (start, end) pairs of the pieces of
 * {@code text[start, end)} (matches and the gaps between them, HF's {@code Isolated} behaviour).
 *
 * <p>The pre-tokenizer regexes of the supported families are hand-compiled ({@link Llama3Splitter},
 * {@link Gpt2Splitter}, {@link DigitSplitter}), as llama.cpp does in {@code unicode.cpp}: they run
 * 5-10x faster than {@link java.util.regex} on the same expression, which dominated encode time.
 * Any other expression uses {@link RegexSplitter}. {@code PreTokenSplitterTest} checks every
 * hand-compiled splitter against the regex it replaces.
 */
sealed interface PreTokenSplitter {

    void split(String text, int start, int end, IntList out);

    static PreTokenSplitter forRegex(String regex) {
        return switch (regex) {
            case PreTokenizer.LLAMA3_REGEX -> new Llama3Splitter(3);
            case PreTokenizer.QWEN2_REGEX -> new Llama3Splitter(1);
            case PreTokenizer.GPT2_REGEX -> new Gpt2Splitter();
            case PreTokenizer.SINGLE_DIGIT_REGEX -> new DigitSplitter(true);
            case PreTokenizer.DIGIT_RUN_REGEX -> new DigitSplitter(false);
            default -> new RegexSplitter(regex);
        };
    }

    /** Any regex, through {@link java.util.regex} with Unicode classes. */
    record RegexSplitter(Pattern pattern) implements PreTokenSplitter {
        RegexSplitter(String regex) {
            this(Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS));
        }

        @Override
        public void split(String text, int start, int end, IntList out) {
            Matcher matcher = pattern.matcher(text);
            matcher.region(start, end);
            int pos = start;
            while (matcher.find()) {
                int ms = matcher.start();
                int me = matcher.end();
                if (ms == me) {
                    continue;
                }
                if (ms > pos) {
                    out.add(pos);
                    out.add(ms);
                }
                out.add(ms);
                out.add(me);
                pos = me;
            }
            if (pos < end) {
                out.add(pos);
                out.add(end);
            }
        }
    }

    /** Code point classes as the regexes see them: \p{L}, \p{N}, \s (Unicode White_Space), [\r\n]. */
    final class CharClass {
        static final int LETTER = 1;
        static final int NUMBER = 2;
        static final int SPACE = 4;
        static final int CRLF = 8;
        static final int OTHER = 16;
        private static final byte[] BMP = new byte[65536];

        static {
            for (int c = 0; c < 65536; c++) {
                BMP[c] = (byte) compute(c);
            }
        }

        private CharClass() {
        }

        static int of(int cp) {
            return cp < 65536 ? BMP[cp] : compute(cp);
        }

        private static int compute(int cp) {
            if (cp == '\r' || cp == '\n') {
                return SPACE | CRLF;
            }
            if (isWhiteSpace(cp)) {
                return SPACE;
            }
            if (Character.isLetter(cp)) {
                return LETTER;
            }
            int type = Character.getType(cp);
            if (type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                    || type == Character.OTHER_NUMBER) {
                return NUMBER;
            }
            return OTHER;
        }

        /** Unicode White_Space, which is {@code \s} in Oniguruma, Rust regex and Java's UNICODE_CHARACTER_CLASS. */
        private static boolean isWhiteSpace(int cp) {
            return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                    || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                    || cp == 0x205F || cp == 0x3000;
        }
    }

    /** Code point at {@code i} if it lies before {@code end}, else -1 (a lone high surrogate stands alone). */
    private static int codePointAt(String text, int i, int end) {
        if (i >= end) {
            return -1;
        }
        char c = text.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1))) {
            return Character.toCodePoint(c, text.charAt(i + 1));
        }
        return c;
    }

    private static int classAt(String text, int i, int end) {
        int cp = codePointAt(text, i, end);
        return cp < 0 ? 0 : CharClass.of(cp);
    }

    private static int next(String text, int i, int end) {
        return i + Character.charCount(codePointAt(text, i, end));
    }

    /** Advances over code points whose class has any of {@code mask}; returns the first index after them. */
    private static int skip(String text, int i, int end, int mask) {
        while (i < end) {
            int cp = codePointAt(text, i, end);
            if ((CharClass.of(cp) & mask) == 0) {
                return i;
            }
            i += Character.charCount(cp);
        }
        return i;
    }

    private static void emit(IntList out, int start, int end) {
        out.add(start);
        out.add(end);
    }

    /** Length of a contraction ('s 't 're 've 'm 'll 'd) at {@code i}, or 0; {@code (?i)} when ignoring case. */
    private static int contraction(String text, int i, int end, boolean ignoreCase) {
        if (text.charAt(i) != '\'' || i + 1 >= end) {
            return 0;
        }
        char a = fold(text.charAt(i + 1), ignoreCase);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return 2;
        }
        if (i + 2 < end) {
            char b = fold(text.charAt(i + 2), ignoreCase);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return 3;
            }
        }
        return 0;
    }

    private static char fold(char c, boolean ignoreCase) {
        if (!ignoreCase) {
            return c;
        }
        if (c == '\u017F') {
            return 's'; // LATIN SMALL LETTER LONG S folds to s
        }
        return c < 128 ? Character.toLowerCase(c) : c;
    }

    /**
     * Llama 3 / Qwen2:
     * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}.
     */
    record Llama3Splitter(int maxDigits) implements PreTokenSplitter {
        @Override
        public void split(String text, int start, int end, IntList out) {
            int i = start;
            while (i < end) {
                int cls = classAt(text, i, end);
                int after = next(text, i, end);
                int contraction = contraction(text, i, end, true);
                if (contraction > 0) {
                    emit(out, i, i + contraction);
                    i += contraction;
                } else if ((cls & CharClass.LETTER) != 0) {
                    int e = skip(text, after, end, CharClass.LETTER);
                    emit(out, i, e);
                    i = e;
                } else if ((cls & (CharClass.CRLF | CharClass.NUMBER)) == 0
                        && (classAt(text, after, end) & CharClass.LETTER) != 0) {
                    int e = skip(text, after, end, CharClass.LETTER);
                    emit(out, i, e);
                    i = e;
                } else if ((cls & CharClass.NUMBER) != 0) {
                    int e = after;
                    for (int d = 1; d < maxDigits && e < end && (classAt(text, e, end) & CharClass.NUMBER) != 0; d++) {
                        e = next(text, e, end);
                    }
                    emit(out, i, e);
                    i = e;
                } else if ((cls & CharClass.OTHER) != 0
                        || (text.charAt(i) == ' ' && (classAt(text, after, end) & CharClass.OTHER) != 0)) {
                    int e = skip(text, (cls & CharClass.OTHER) != 0 ? i : after, end, CharClass.OTHER);
                    e = skipCrLf(text, e, end);
                    emit(out, i, e);
                    i = e;
                } else {
                    i = whitespace(text, i, end, out, true);
                }
            }
        }

        private static int skipCrLf(String text, int i, int end) {
            while (i < end && (text.charAt(i) == '\r' || text.charAt(i) == '\n')) {
                i++;
            }
            return i;
        }
    }

    /**
     * A whitespace run at {@code i}: with {@code crLfRule}, {@code \s*[\r\n]+} (up to the last CR/LF of
     * the run) first; then {@code \s+(?!\S)} (all but the last space when a non-space follows) and
     * {@code \s+}.
     */
    private static int whitespace(String text, int i, int end, IntList out, boolean crLfRule) {
        int runEnd = skip(text, i, end, CharClass.SPACE);
        if (crLfRule) {
            for (int k = runEnd - 1; k >= i; k--) {
                char c = text.charAt(k);
                if (c == '\r' || c == '\n') {
                    emit(out, i, k + 1);
                    return k + 1;
                }
            }
        }
        int e = runEnd;
        if (runEnd < end) {
            int lastStart = runEnd - Character.charCount(text.codePointBefore(runEnd));
            if (lastStart > i) {
                e = lastStart;
            }
        }
        emit(out, i, e);
        return e;
    }

    /** GPT-2 / HF ByteLevel: {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}. */
    record Gpt2Splitter() implements PreTokenSplitter {
        @Override
        public void split(String text, int start, int end, IntList out) {
            int i = start;
            while (i < end) {
                int contraction = contraction(text, i, end, false);
                if (contraction > 0) {
                    emit(out, i, i + contraction);
                    i += contraction;
                    continue;
                }
                int from = text.charAt(i) == ' ' && i + 1 < end ? i + 1 : i;
                int cls = classAt(text, from, end);
                int mask = (cls & CharClass.LETTER) != 0 ? CharClass.LETTER
                        : (cls & CharClass.NUMBER) != 0 ? CharClass.NUMBER
                        : (cls & CharClass.OTHER) != 0 ? CharClass.OTHER : 0;
                if (mask != 0) {
                    int e = skip(text, from, end, mask);
                    emit(out, i, e);
                    i = e;
                } else {
                    i = whitespace(text, i, end, out, false);
                }
            }
        }
    }

    /** HF {@code Digits}: each number char alone, or runs of them; the rest stays in between. */
    record DigitSplitter(boolean individual) implements PreTokenSplitter {
        @Override
        public void split(String text, int start, int end, IntList out) {
            int pos = start;
            int i = start;
            while (i < end) {
                int cp = codePointAt(text, i, end);
                int after = i + Character.charCount(cp);
                if ((CharClass.of(cp) & CharClass.NUMBER) != 0) {
                    if (i > pos) {
                        emit(out, pos, i);
                    }
                    int e = individual ? after : skip(text, after, end, CharClass.NUMBER);
                    emit(out, i, e);
                    pos = e;
                    i = e;
                } else {
                    i = after;
                }
            }
            if (pos < end) {
                emit(out, pos, end);
            }
        }
    }
}
