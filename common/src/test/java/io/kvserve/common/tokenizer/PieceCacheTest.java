package io.kvserve.common.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PieceCacheTest {
    private static final int BITS = 15;

    /** The 2^15 words spelled from "Aa" and "BB" blocks: all share one {@code String.hashCode}. */
    private static String[] collidingWords() {
        String[] words = new String[1 << BITS];
        for (int w = 0; w < words.length; w++) {
            StringBuilder sb = new StringBuilder(" ");
            for (int b = 0; b < BITS; b++) {
                sb.append(((w >> b) & 1) == 0 ? "Aa" : "BB");
            }
            words[w] = sb.toString();
        }
        return words;
    }

    @Test
    void hash_stringHashCodeCollidingWords_spreadAcrossHashesAndBuckets() {
        String[] words = collidingWords();
        Set<Integer> javaHashes = new HashSet<>();
        Set<Integer> hashes = new HashSet<>();
        Set<Integer> buckets = new HashSet<>();
        int tableMask = Integer.highestOneBit(ByteLevelBpeTokenizer.CACHE_MAX_ENTRIES * 2) - 1;
        for (String word : words) {
            javaHashes.add(word.hashCode());
            int h = PieceCache.hash(word, 0, word.length());
            hashes.add(h);
            buckets.add((h ^ (h >>> 16)) & tableMask);
        }
        assertThat(javaHashes).hasSize(1);
        assertThat(hashes.size()).isGreaterThanOrEqualTo(words.length * 9 / 10);
        // 2^15 keys thrown at random into 2^18 buckets fill about 94% distinct ones
        assertThat(buckets.size()).isGreaterThanOrEqualTo(words.length * 8 / 10);
    }

    @Test
    void hash_differentSeeds_differentCollisions() {
        assertThat(PieceCache.hash(1L, " AaBB", 0, 5)).isNotEqualTo(PieceCache.hash(2L, " AaBB", 0, 5));
        assertThat(PieceCache.hash(1L, "x AaBB", 1, 6)).isEqualTo(PieceCache.hash(1L, " AaBB", 0, 5));
    }

    @Test
    void get_afterPutOfCollidingWords_returnsEachWordsOwnIds() {
        String[] words = collidingWords();
        PieceCache cache = new PieceCache(1 << 16);
        for (int i = 0; i < words.length; i++) {
            String w = words[i];
            cache.put(w, 0, w.length(), PieceCache.hash(w, 0, w.length()), new int[] {i});
        }
        for (int i = 0; i < words.length; i++) {
            String text = "<" + words[i] + ">";
            int end = text.length() - 1;
            assertThat(cache.get(text, 1, end, PieceCache.hash(text, 1, end))).containsExactly(i);
        }
    }
}
