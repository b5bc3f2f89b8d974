package io.kvserve.common.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What every vocabulary-based tokenizer shares: id to text/type/bytes, text to id, the added-token
 * matchers, and byte-concatenating decode. The model-specific part (how a token maps to bytes,
 * how raw text is split and merged) stays in the tokenizer that owns this table.
 */
final class TokenTable {
    final String[] texts;
    final TokenType[] types;
    final byte[][] bytes;
    final Map<String, Integer> idsByText;
    /** CONTROL and USER_DEFINED tokens: used when specials are parsed. */
    private final AddedTokenMatcher allAdded = new AddedTokenMatcher();
    /** USER_DEFINED tokens only: always matched, even in raw text. */
    private final AddedTokenMatcher userDefined = new AddedTokenMatcher();

    TokenTable(List<String> tokens, TokenType[] types, byte[][] bytes) {
        if (types.length != tokens.size() || bytes.length != tokens.size()) {
            throw new TokenizerException("token list has " + tokens.size() + " entries but token types has "
                    + types.length);
        }
        this.texts = tokens.toArray(String[]::new);
        this.types = types;
        this.bytes = bytes;
        this.idsByText = HashMap.newHashMap(texts.length);
        for (int id = 0; id < texts.length; id++) {
            idsByText.putIfAbsent(texts[id], id);
            if (types[id] == TokenType.CONTROL) {
                allAdded.add(texts[id], id);
            } else if (types[id] == TokenType.USER_DEFINED) {
                allAdded.add(texts[id], id);
                userDefined.add(texts[id], id);
            }
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Receives the pieces of a text split at added tokens. */
    interface SegmentSink {
        void rawText(String text, int start, int end);

        void addedToken(int id);
    }

    void segment(String text, boolean parseSpecials, SegmentSink sink) {
        AddedTokenMatcher matcher = parseSpecials ? allAdded : userDefined;
        int[] id = new int[1];
        int pos = 0;
        int end = text.length();
        while (pos < end) {
            long found = matcher.find(text, pos, end, id);
            if (found < 0) {
                sink.rawText(text, pos, end);
                return;
            }
            int start = (int) (found >>> 32);
            int length = (int) found;
            if (start > pos) {
                sink.rawText(text, pos, start);
            }
            sink.addedToken(id[0]);
            pos = start + length;
        }
    }

    boolean isSpecial(int id) {
        TokenType type = types[id];
        return type == TokenType.CONTROL || type == TokenType.UNUSED;
    }

    String decode(int[] ids, boolean skipSpecials, boolean stripLeadingSpace) {
        int total = 0;
        for (int id : ids) {
            checkId(id);
            if (!(skipSpecials && isSpecial(id))) {
                total += bytes[id].length;
            }
        }
        byte[] out = new byte[total];
        int n = 0;
        for (int id : ids) {
            if (!(skipSpecials && isSpecial(id))) {
                byte[] b = bytes[id];
                System.arraycopy(b, 0, out, n, b.length);
                n += b.length;
            }
        }
        int offset = stripLeadingSpace && n > 0 && out[0] == ' ' ? 1 : 0;
        return new String(out, offset, n - offset, StandardCharsets.UTF_8);
    }

    /** @throws IndexOutOfBoundsException naming the id and the vocabulary range, as {@link Tokenizer} specifies */
    void checkId(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IndexOutOfBoundsException("token id " + id + " outside vocabulary [0, " + texts.length + ")");
        }
    }
}
