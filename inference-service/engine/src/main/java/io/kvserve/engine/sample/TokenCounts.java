package io.kvserve.engine.sample;

import java.util.Arrays;

/**
 * Distinct token ids in first-seen order with an occurrence count each: the penalties' memory of the
 * prompt and output. Sized by the distinct tokens of one request rather than by the vocabulary (a
 * {@code int[vocabSize]} would be 512 KB per request at 128k); the penalty loops walk the dense
 * {@link #id}/{@link #count} arrays, and only {@link #add} hashes.
 *
 * <p>Open addressing with linear probing over a power-of-two table of indices into the dense
 * arrays, at most half full; grows by doubling (amortized O(1) per add, the only allocation).
 */
final class TokenCounts {

    private int[] table;   // (capacity) index + 1 into ids/counts, 0 for an empty slot
    private int[] ids;     // (>= size) distinct ids, first-seen order
    private int[] counts;  // (>= size) occurrences of ids[i]
    private int size;

    TokenCounts(int expectedDistinct) {
        int capacity = Integer.highestOneBit(Math.max(8, expectedDistinct) * 2 - 1) * 2;
        table = new int[capacity];
        ids = new int[capacity / 2];
        counts = new int[capacity / 2];
    }

    /** Counts one more occurrence of {@code tokenId}; returns its count before this one. */
    int add(int tokenId) {
        int mask = table.length - 1;
        int slot = mix(tokenId) & mask;
        while (table[slot] != 0) {
            int index = table[slot] - 1;
            if (ids[index] == tokenId) {
                return counts[index]++;
            }
            slot = (slot + 1) & mask;
        }
        if (size == ids.length) {
            grow();
            return add(tokenId);
        }
        ids[size] = tokenId;
        counts[size] = 1;
        table[slot] = ++size;
        return 0;
    }

    /** The number of distinct tokens. */
    int size() {
        return size;
    }

    int id(int index) {
        return ids[index];
    }

    int count(int index) {
        return counts[index];
    }

    /** The distinct ids, first {@link #size} valid: for loops over all of them. */
    int[] ids() {
        return ids;
    }

    /** Their counts, first {@link #size} valid. */
    int[] counts() {
        return counts;
    }

    private void grow() {
        ids = Arrays.copyOf(ids, ids.length * 2);
        counts = Arrays.copyOf(counts, counts.length * 2);
        table = new int[table.length * 2];
        int mask = table.length - 1;
        for (int index = 0; index < size; index++) {
            int slot = mix(ids[index]) & mask;
            while (table[slot] != 0) {
                slot = (slot + 1) & mask;
            }
            table[slot] = index + 1;
        }
    }

    /** Spreads consecutive ids over the table (Fibonacci hashing, high bits folded down). */
    private static int mix(int tokenId) {
        int h = tokenId * 0x9E37_79B9;
        return h ^ (h >>> 16);
    }
}
