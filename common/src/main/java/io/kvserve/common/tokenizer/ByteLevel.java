package io.kvserve.common.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's reversible byte to printable-character map, used by byte-level BPE vocabularies so that
 * every byte has a visible one-char token ({@code ' '} is {@code 'Ġ'}, {@code '\n'} is {@code 'Ċ'}).
 *
 * <p>The 188 printable bytes (33..126, 161..172, 174..255) map to themselves; the remaining 68 map to
 * U+0100 onwards in byte order. {@link #BYTES_IN_VOCAB_ORDER} is the order GPT-2-style vocabularies
 * list their 256 byte tokens (printable first).
 */
public final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[324];
    /** Byte values in GPT-2 vocabulary order: token i of a fresh vocab is {@code byteToChar(BYTES_IN_VOCAB_ORDER[i])}. */
    static final int[] BYTES_IN_VOCAB_ORDER = new int[256];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        boolean[] printable = new boolean[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174)) {
                printable[b] = true;
                BYTE_TO_CHAR[b] = (char) b;
                BYTES_IN_VOCAB_ORDER[n++] = b;
            }
        }
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            if (!printable[b]) {
                BYTE_TO_CHAR[b] = (char) (256 + extra++);
                BYTES_IN_VOCAB_ORDER[n++] = b;
            }
        }
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {
    }

    public static char byteToChar(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte a byte-level char stands for, or -1 when the char is not one of the 256. */
    public static int charToByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Maps a string of raw bytes to its byte-level spelling. */
    public static String encode(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /** Maps a byte-level spelling back to bytes; a char outside the map contributes its own UTF-8 bytes. */
    public static byte[] decode(String text) {
        byte[] out = new byte[text.length() * 3];
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int b = charToByte(c);
            if (b >= 0) {
                out[n++] = (byte) b;
            } else {
                int cp = text.codePointAt(i);
                if (Character.isSupplementaryCodePoint(cp)) {
                    i++;
                }
                n = Utf8.encodeCodePoint(cp, out, n);
            }
        }
        return Arrays.copyOf(out, n);
    }
}
