package io.kvserve.common.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * Finds added tokens ({@code <|im_start|>}, {@code <tool_call>}) in text, leftmost first and longest
 * at a position, as HF's AddedVocabulary (Aho-Corasick, leftmost-longest) does. A char trie with a
 * first-char bitmap: most positions are rejected by one array read.
 */
final class AddedTokenMatcher {
    private static final class Node {
        final Map<Character, Node> children = new HashMap<>();
        int tokenId = -1;
    }

    private final Node root = new Node();
    private final boolean[] isFirstChar = new boolean[65536];
    private boolean empty = true;

    void add(String content, int tokenId) {
        if (content.isEmpty()) {
            return;
        }
        Node node = root;
        for (int i = 0; i < content.length(); i++) {
            node = node.children.computeIfAbsent(content.charAt(i), c -> new Node());
        }
        if (node.tokenId < 0) {
            node.tokenId = tokenId;
        }
        isFirstChar[content.charAt(0)] = true;
        empty = false;
    }

    boolean isEmpty() {
        return empty;
    }

    /**
     * Finds the first match at or after {@code from} before {@code end}. Returns
     * {@code (start << 32) | matchLength} with the token id in {@code idOut[0]}, or -1 when none.
     */
    long find(String text, int from, int end, int[] idOut) {
        if (empty) {
            return -1;
        }
        for (int i = from; i < end; i++) {
            if (!isFirstChar[text.charAt(i)]) {
                continue;
            }
            Node node = root;
            int bestLength = 0;
            int bestId = -1;
            for (int j = i; j < end; j++) {
                node = node.children.get(text.charAt(j));
                if (node == null) {
                    break;
                }
                if (node.tokenId >= 0) {
                    bestLength = j - i + 1;
                    bestId = node.tokenId;
                }
            }
            if (bestId >= 0) {
                idOut[0] = bestId;
                return ((long) i << 32) | bestLength;
            }
        }
        return -1;
    }
}
