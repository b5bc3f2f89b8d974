package io.kvserve.common.tokenizer;

/** UTF-8 helpers without per-char allocation. */
public final class Utf8 {
    private Utf8() {
    }

    /**
     * Java strings may carry lone surrogates that no UTF-8 text (and no Rust tokenizer) can hold.
     * kvserve defines their meaning once, here: each lone surrogate becomes U+FFFD before encoding,
     * which is what a tokenizer reading the same string through lossy UTF-8 sees.
     */
    public static String replaceLoneSurrogates(String text) {
        int n = text.length();
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i += 2;
                    continue;
                }
                return replaceFrom(text, i);
            }
            i++;
        }
        return text;
    }

    private static String replaceFrom(String text, int first) {
        StringBuilder sb = new StringBuilder(text.length());
        sb.append(text, 0, first);
        int n = text.length();
        for (int i = first; i < n; i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                sb.append(c).append(text.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append('\uFFFD');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Writes the UTF-8 bytes of a code point at {@code pos}; returns the new position. */
    static int encodeCodePoint(int cp, byte[] out, int pos) {
        if (cp < 0x80) {
            out[pos++] = (byte) cp;
        } else if (cp < 0x800) {
            out[pos++] = (byte) (0xC0 | (cp >> 6));
            out[pos++] = (byte) (0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[pos++] = (byte) (0xE0 | (cp >> 12));
            out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            out[pos++] = (byte) (0x80 | (cp & 0x3F));
        } else {
            out[pos++] = (byte) (0xF0 | (cp >> 18));
            out[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
            out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            out[pos++] = (byte) (0x80 | (cp & 0x3F));
        }
        return pos;
    }

    /**
     * Length of the longest prefix of {@code bytes[0, length)} that ends on a character boundary,
     * treating a trailing incomplete-but-so-far-valid sequence as "not yet complete".
     * Invalid bytes count as complete (they decode to U+FFFD and more bytes cannot fix them).
     */
    static int completePrefixLength(byte[] bytes, int length) {
        // Look back at most 3 bytes for the start of a multi-byte sequence.
        for (int back = 1; back <= Math.min(3, length); back++) {
            int b = bytes[length - back] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // continuation byte, keep looking for the lead
            }
            int need = b >= 0xF5 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 1;
            if (need > back && isValidPrefix(bytes, length - back, back)) {
                return length - back;
            }
            return length;
        }
        return length;
    }

    /** Whether the {@code count} bytes at {@code start} are a valid (incomplete) start of a UTF-8 sequence. */
    private static boolean isValidPrefix(byte[] bytes, int start, int count) {
        int lead = bytes[start] & 0xFF;
        if (count >= 2) {
            int second = bytes[start + 1] & 0xFF;
            int lo = 0x80;
            int hi = 0xBF;
            if (lead == 0xE0) {
                lo = 0xA0;
            } else if (lead == 0xED) {
                hi = 0x9F;
            } else if (lead == 0xF0) {
                lo = 0x90;
            } else if (lead == 0xF4) {
                hi = 0x8F;
            }
            if (second < lo || second > hi) {
                return false;
            }
        }
        return true;
    }
}
