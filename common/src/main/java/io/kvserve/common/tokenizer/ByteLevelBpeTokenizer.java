package io.kvserve.common.tokenizer;

import java.text.Normalizer;
import java.util.List;

/**
 * Byte-level BPE: GPT-2's scheme, used by Llama 3, Qwen2, SmolLM and most recent models
 * (GGUF {@code tokenizer.ggml.model = "gpt2"}, HF {@code model.type = "BPE"} with ByteLevel).
 *
 * <h2>Design</h2>
 * Encoding runs in four stages [1, 2]:
 * <ol>
 *   <li>split the text at added tokens (leftmost-longest; control tokens only when asked);</li>
 *   <li>optionally NFC-normalize each remaining segment (Qwen2's tokenizer.json asks for it);</li>
 *   <li>cut each segment into pre-tokens with the model's regexes ({@link PreTokenizer});</li>
 *   <li>map each pre-token's UTF-8 bytes to the 256 byte tokens and apply merges, lowest rank
 *       first, leftmost first among equal ranks.</li>
 * </ol>
 * Stage 4 is HF's algorithm [2]: symbols in a doubly linked list over arrays, candidate pairs in a
 * min-heap keyed {@code (rank << 32) | leftPosition}; a popped entry is stale when its left symbol
 * died or the pair no longer has that rank, and is skipped. That is O(n log n) for a pre-token of n
 * bytes, so a 1 MB run of letters (one pre-token) stays fast where the textbook "rescan for the best
 * pair" loop would be quadratic. With {@code ignoreMerges} (Llama 3) a pre-token that is itself a
 * vocabulary entry is emitted whole before any merging [1, 2].
 *
 * <p>Natural text repeats pre-tokens heavily, so results are cached per pre-token in a
 * {@link PieceCache} looked up by char range (no char copy on a hit). Pre-tokens
 * longer than {@value #CACHE_MAX_PIECE_CHARS} chars are rare and not cached.
 *
 * <p>References: [1] llama.cpp {@code src/llama-vocab.cpp} (llm_tokenizer_bpe);
 * [2] huggingface/tokenizers {@code tokenizers/src/models/bpe/word.rs} ({@code merge_all}).
 */
public final class ByteLevelBpeTokenizer extends VocabularyTokenizer {
    static final int CACHE_MAX_ENTRIES = 1 << 17;
    private static final int CACHE_MAX_PIECE_CHARS = 64;

    private final PreTokenizer preTokenizer;
    private final PairMergeMap merges;
    private final int[] byteTokenIds = new int[256];
    private final boolean ignoreMerges;
    private final boolean normalizeNfc;
    private final PieceCache cache = new PieceCache(CACHE_MAX_ENTRIES);

    /**
     * @param tokens       token texts in id order, byte-level spelled for the learned ones
     * @param tokenTypes   one per token; CONTROL and USER_DEFINED ones are matched as whole added tokens
     * @param mergePairs   merges in rank order, each {@code {left, right}}
     * @param preTokenizer the model's pre-token split
     * @param specials     BOS/EOS ids and whether to add them
     * @param ignoreMerges emit a pre-token whole when it is a vocabulary entry (Llama 3)
     * @param normalizeNfc NFC-normalize text outside added tokens before splitting (Qwen2 in HF)
     */
    public ByteLevelBpeTokenizer(List<String> tokens, TokenType[] tokenTypes, List<String[]> mergePairs,
                                 PreTokenizer preTokenizer, SpecialTokens specials, boolean ignoreMerges,
                                 boolean normalizeNfc) {
        super(new TokenTable(tokens, tokenTypes, tokenBytes(tokens, tokenTypes)), specials);
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;
        this.normalizeNfc = normalizeNfc;
        this.merges = new PairMergeMap(mergePairs.size());
        for (int rank = 0; rank < mergePairs.size(); rank++) {
            String[] pair = mergePairs.get(rank);
            Integer left = table.idsByText.get(pair[0]);
            Integer right = table.idsByText.get(pair[1]);
            Integer merged = table.idsByText.get(pair[0] + pair[1]);
            if (left == null || right == null || merged == null) {
                String missing = left == null ? pair[0] : right == null ? pair[1] : pair[0] + pair[1];
                throw new TokenizerException("merge " + rank + " '" + pair[0] + " " + pair[1] + "' refers to '"
                        + missing + "' which is not in the vocabulary");
            }
            merges.put(left, right, rank, merged);
        }
        // every byte must have its token, or text holding that byte could not be encoded
        int numMissing = 0;
        int firstMissing = -1;
        for (int b = 0; b < 256; b++) {
            Integer id = table.idsByText.get(String.valueOf(ByteLevel.byteToChar(b)));
            if (id == null) {
                numMissing++;
                firstMissing = firstMissing < 0 ? b : firstMissing;
            } else {
                byteTokenIds[b] = id;
            }
        }
        if (numMissing > 0) {
            throw new TokenizerException(String.format("byte-level BPE vocabulary has no token for byte 0x%02X ('%c')%s;"
                    + " all 256 byte tokens are required", firstMissing, ByteLevel.byteToChar(firstMissing),
                    numMissing > 1 ? " and " + (numMissing - 1) + " other byte(s)" : ""));
        }
    }

    /** Parses a merge written as {@code "left right"} (exactly one space). */
    public static String[] parseMerge(String merge) {
        int space = merge.indexOf(' ');
        if (space <= 0 || space == merge.length() - 1 || merge.indexOf(' ', space + 1) >= 0) {
            throw new TokenizerException("merge '" + merge + "' is not two tokens separated by one space");
        }
        return new String[] {merge.substring(0, space), merge.substring(space + 1)};
    }

    @Override
    TokenTable.SegmentSink segmentEncoder(IntList out) {
        return new TokenTable.SegmentSink() {
            @Override
            public void rawText(String s, int start, int end) {
                encodeRaw(s, start, end, out);
            }

            @Override
            public void addedToken(int id) {
                out.add(id);
            }
        };
    }

    private void encodeRaw(String text, int start, int end, IntList out) {
        if (normalizeNfc) {
            String segment = text.substring(start, end);
            if (!Normalizer.isNormalized(segment, Normalizer.Form.NFC)) {
                text = Normalizer.normalize(segment, Normalizer.Form.NFC);
                start = 0;
                end = text.length();
            }
        }
        IntList spans = preTokenizer.split(text, start, end);
        for (int i = 0; i < spans.size(); i += 2) {
            int s = spans.get(i);
            int e = spans.get(i + 1);
            if (e - s <= CACHE_MAX_PIECE_CHARS) {
                int hash = PieceCache.hash(text, s, e);
                int[] ids = cache.get(text, s, e, hash);
                if (ids == null) {
                    ids = bpe(text, s, e);
                    cache.put(text, s, e, hash, ids);
                }
                out.addAll(ids);
            } else {
                out.addAll(bpe(text, s, e));
            }
        }
    }

    /** BPE of one pre-token {@code text[start, end)}. */
    private int[] bpe(String text, int start, int end) {
        byte[] utf8 = new byte[(end - start) * 3];
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1))) {
                cp = Character.toCodePoint(c, text.charAt(++i));
            }
            n = Utf8.encodeCodePoint(cp, utf8, n);
        }
        if (ignoreMerges) {
            char[] spelled = new char[n];
            for (int i = 0; i < n; i++) {
                spelled[i] = ByteLevel.byteToChar(utf8[i] & 0xFF);
            }
            Integer whole = table.idsByText.get(new String(spelled));
            if (whole != null && table.types[whole] != TokenType.CONTROL && table.types[whole] != TokenType.USER_DEFINED) {
                return new int[] {whole};
            }
        }
        int[] ids = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            int id = byteTokenIds[utf8[i] & 0xFF];
            ids[i] = id;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongMinHeap heap = new LongMinHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            pushPair(heap, ids, i, i + 1);
        }
        while (!heap.isEmpty()) {
            long entry = heap.pop();
            int rank = (int) (entry >>> 32);
            int left = (int) entry;
            if (ids[left] == Integer.MIN_VALUE) {
                continue;
            }
            int right = next[left];
            if (right < 0) {
                continue;
            }
            long merge = merges.get(ids[left], ids[right]);
            if (merge < 0 || (int) (merge >>> 32) != rank) {
                continue;
            }
            ids[left] = (int) merge;
            ids[right] = Integer.MIN_VALUE;
            int after = next[right];
            next[left] = after;
            if (after >= 0) {
                prev[after] = left;
                pushPair(heap, ids, left, after);
            }
            if (prev[left] >= 0) {
                pushPair(heap, ids, prev[left], left);
            }
        }
        int numSymbols = 0;
        for (int i = 0; i < n; i++) {
            if (ids[i] >= 0) {
                numSymbols++;
            }
        }
        int[] result = new int[numSymbols];
        int k = 0;
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            if (ids[i] >= 0) {
                result[k++] = ids[i];
            }
        }
        return result;
    }

    private void pushPair(LongMinHeap heap, int[] ids, int left, int right) {
        if (ids[left] < 0 || ids[right] < 0) {
            return;
        }
        long merge = merges.get(ids[left], ids[right]);
        if (merge >= 0) {
            heap.push((merge & 0xFFFFFFFF00000000L) | left);
        }
    }


    /** The bytes each token stands for: byte-level spelled for learned tokens, UTF-8 for added ones. */
    private static byte[][] tokenBytes(List<String> tokens, TokenType[] tokenTypes) {
        byte[][] bytes = new byte[tokens.size()][];
        for (int id = 0; id < bytes.length; id++) {
            TokenType type = tokenTypes[id];
            bytes[id] = type == TokenType.NORMAL || type == TokenType.UNDEFINED || type == TokenType.BYTE
                    ? ByteLevel.decode(tokens.get(id))
                    : TokenTable.utf8(tokens.get(id));
        }
        return bytes;
    }

    public PreTokenizer preTokenizer() {
        return preTokenizer;
    }
}
