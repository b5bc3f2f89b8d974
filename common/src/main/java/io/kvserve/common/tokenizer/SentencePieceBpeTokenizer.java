package io.kvserve.common.tokenizer;

import java.util.List;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE as llama.cpp runs it for GGUF {@code tokenizer.ggml.model = "llama"} (Llama 1/2,
 * Mistral v0.1, TinyLlama...).
 *
 * <h2>Design</h2>
 * There are no merge rules; a vocabulary piece's score decides [1]:
 * <ol>
 *   <li>spaces become U+2581 "▁"; a "▁" is prepended at the start of the text and after every added
 *       token when {@code addSpacePrefix} is set (llama.cpp's {@code is_prev_special} rule);</li>
 *   <li>every code point starts as a symbol; every adjacent pair whose concatenation is a
 *       vocabulary piece enters a max-heap ordered by that piece's score, leftmost first on ties;</li>
 *   <li>the best pair merges unless either side already changed (a stale entry: the recorded length
 *       no longer matches); the new symbol's pairs with its neighbours enter the heap;</li>
 *   <li>each final symbol is its vocabulary id, or, when a single code point is not in the
 *       vocabulary, its UTF-8 bytes as {@code <0xNN>} byte-fallback tokens (or {@code unknownId}
 *       when the vocabulary has no byte tokens; with neither the byte is dropped).</li>
 * </ol>
 * Decoding maps "▁" back to a space, byte tokens to their byte, and drops one leading space of the
 * output when the space prefix is on (HF's {@code Strip(start=1)} decoder).
 *
 * <p>References: [1] llama.cpp {@code src/llama-vocab.cpp} ({@code llm_tokenizer_spm_session});
 * [2] google/sentencepiece {@code bpe_model.cc}.
 */
public final class SentencePieceBpeTokenizer extends VocabularyTokenizer {
    static final char SPACE_MARK = '\u2581';

    private final float[] scores;
    private final boolean addSpacePrefix;
    private final int[] byteTokenIds = new int[256];

    /**
     * @param tokens         piece texts in id order ({@code "▁the"}, {@code "<0x0A>"}, {@code "<s>"})
     * @param scores         one per piece; higher merges first
     * @param tokenTypes     one per piece
     * @param specials       BOS/EOS/UNK ids and whether to add BOS/EOS
     * @param addSpacePrefix prepend "▁" to text at the start and after added tokens
     */
    public SentencePieceBpeTokenizer(List<String> tokens, float[] scores, TokenType[] tokenTypes,
                                     SpecialTokens specials, boolean addSpacePrefix) {
        if (scores.length != tokens.size()) {
            throw new TokenizerException("token list has " + tokens.size() + " entries but scores has "
                    + scores.length);
        }
        super(new TokenTable(tokens, tokenTypes, tokenBytes(tokens, tokenTypes)), specials);
        java.util.Arrays.fill(byteTokenIds, -1);
        for (int id = 0; id < tokens.size(); id++) {
            int byteValue = tokenTypes[id] == TokenType.BYTE ? parseByteToken(tokens.get(id)) : -1;
            if (byteValue >= 0 && byteTokenIds[byteValue] < 0) {
                byteTokenIds[byteValue] = id;
            }
        }
        this.scores = scores.clone();
        this.addSpacePrefix = addSpacePrefix;
    }

    /** The bytes each piece stands for: {@code <0xNN>} one byte, "▁" a space in normal pieces. */
    private static byte[][] tokenBytes(List<String> tokens, TokenType[] tokenTypes) {
        byte[][] bytes = new byte[tokens.size()][];
        for (int id = 0; id < bytes.length; id++) {
            String text = tokens.get(id);
            int byteValue = tokenTypes[id] == TokenType.BYTE ? parseByteToken(text) : -1;
            if (byteValue >= 0) {
                bytes[id] = new byte[] {(byte) byteValue};
            } else if (tokenTypes[id] == TokenType.NORMAL || tokenTypes[id] == TokenType.USER_DEFINED
                    || tokenTypes[id] == TokenType.UNDEFINED) {
                bytes[id] = TokenTable.utf8(text.replace(SPACE_MARK, ' '));
            } else {
                bytes[id] = TokenTable.utf8(text);
            }
        }
        return bytes;
    }

    /** {@code "<0x0A>"} to 10; -1 when the text is not a byte token. */
    static int parseByteToken(String text) {
        if (text.length() != 6 || !text.startsWith("<0x") || text.charAt(5) != '>') {
            return -1;
        }
        try {
            return Integer.parseInt(text, 3, 5, 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    TokenTable.SegmentSink segmentEncoder(IntList out) {
        return new TokenTable.SegmentSink() {
            /** llama.cpp's is_prev_special: the text start counts as following an added token. */
            private boolean prevIsSpecial = true;

            @Override
            public void rawText(String s, int start, int end) {
                StringBuilder escaped = new StringBuilder(end - start + 1);
                if (addSpacePrefix && prevIsSpecial) {
                    escaped.append(SPACE_MARK);
                }
                for (int i = start; i < end; i++) {
                    char c = s.charAt(i);
                    escaped.append(c == ' ' ? SPACE_MARK : c);
                }
                tokenize(escaped.toString(), out);
                prevIsSpecial = false;
            }

            @Override
            public void addedToken(int id) {
                out.add(id);
                prevIsSpecial = true;
            }
        };
    }

    private record Bigram(int left, int right, float score, int numChars) {
    }

    private void tokenize(String text, IntList out) {
        int n = text.length();
        if (n == 0) {
            return;
        }
        // symbols by code point; start = char offset, length in chars (0 once merged away)
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int numSymbols = 0;
        for (int i = 0; i < n; ) {
            int len = Character.charCount(text.codePointAt(i));
            start[numSymbols] = i;
            length[numSymbols] = len;
            prev[numSymbols] = numSymbols - 1;
            next[numSymbols] = numSymbols + 1;
            numSymbols++;
            i += len;
        }
        next[numSymbols - 1] = -1;
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, numSymbols), (a, b) -> {
            int byScore = Float.compare(b.score, a.score);
            return byScore != 0 ? byScore : Integer.compare(a.left, b.left);
        });
        for (int i = 1; i < numSymbols; i++) {
            tryAddBigram(text, start, length, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = bigram.right;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.numChars) {
                continue;
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                tryAddBigram(text, start, length, prev[left], left, queue);
            }
            if (next[left] >= 0) {
                tryAddBigram(text, start, length, left, next[left], queue);
            }
        }
        for (int i = 0; i >= 0; i = next[i]) {
            String piece = text.substring(start[i], start[i] + length[i]);
            Integer id = table.idsByText.get(piece);
            if (id != null) {
                out.add(id);
            } else {
                byteFallback(piece, out);
            }
        }
    }

    private void tryAddBigram(String text, int[] start, int[] length, int left, int right,
                              PriorityQueue<Bigram> queue) {
        int numChars = length[left] + length[right];
        Integer id = table.idsByText.get(text.substring(start[left], start[left] + numChars));
        if (id != null) {
            queue.add(new Bigram(left, right, scores[id], numChars));
        }
    }

    private void byteFallback(String piece, IntList out) {
        for (byte b : TokenTable.utf8(piece)) {
            int id = byteTokenIds[b & 0xFF];
            if (id >= 0) {
                out.add(id);
            } else if (specials.unknownId().isPresent()) {
                out.add(specials.unknownId().getAsInt());
                return;
            }
        }
    }

    @Override
    public boolean stripsLeadingSpace() {
        return addSpacePrefix;
    }


    public float score(int id) {
        table.checkId(id);
        return scores[id];
    }
}
