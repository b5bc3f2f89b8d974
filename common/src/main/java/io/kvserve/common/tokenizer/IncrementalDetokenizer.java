package io.kvserve.common.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a stream of generated ids into text deltas that are always whole characters.
 *
 * <p>A token can end in the middle of a UTF-8 character (byte-level BPE pieces of an emoji,
 * SentencePiece {@code <0xF0>} byte-fallback tokens). Each {@link #push(int)} appends the token's
 * bytes and returns the longest decodable prefix; a trailing sequence that is still a valid start of
 * a character waits for the next token. Bytes that can never become valid are released at once as
 * U+FFFD, and {@link #flush()} releases whatever is left the same way, so the concatenation of all
 * deltas equals {@code tokenizer.decode(allIds, skipSpecials)}, replacement characters included.
 * One leading space of the whole output is dropped for SentencePiece models, as decode does.
 *
 * <p>Not thread-safe: one instance per generated sequence.
 */
public final class IncrementalDetokenizer {
    private final Tokenizer tokenizer;
    private final boolean skipSpecials;
    private byte[] pending = new byte[16];
    private int numPendingBytes;
    private boolean atStart = true;

    public IncrementalDetokenizer(Tokenizer tokenizer, boolean skipSpecials) {
        this.tokenizer = tokenizer;
        this.skipSpecials = skipSpecials;
    }

    /** Adds one token; returns the newly completed text, possibly empty. */
    public String push(int id) {
        if (skipSpecials && tokenizer.isSpecial(id)) {
            return "";
        }
        // read-only use below: skip tokenBytes' per-token copy when the table is ours
        byte[] bytes = tokenizer instanceof VocabularyTokenizer v ? v.tokenBytesShared(id) : tokenizer.tokenBytes(id);
        int from = 0;
        if (atStart && bytes.length > 0) {
            atStart = false;
            if (tokenizer.stripsLeadingSpace() && bytes[0] == ' ') {
                from = 1;
            }
        }
        int count = bytes.length - from;
        if (numPendingBytes + count > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, numPendingBytes + count));
        }
        System.arraycopy(bytes, from, pending, numPendingBytes, count);
        numPendingBytes += count;
        int complete = Utf8.completePrefixLength(pending, numPendingBytes);
        return take(complete);
    }

    /** Releases everything still held (an unfinished character becomes U+FFFD). */
    public String flush() {
        return take(numPendingBytes);
    }

    /** Bytes held back because they may be the start of a character. */
    public int numPendingBytes() {
        return numPendingBytes;
    }

    private String take(int numBytes) {
        if (numBytes == 0) {
            return "";
        }
        String text = new String(pending, 0, numBytes, StandardCharsets.UTF_8);
        System.arraycopy(pending, numBytes, pending, 0, numPendingBytes - numBytes);
        numPendingBytes -= numBytes;
        return text;
    }
}
