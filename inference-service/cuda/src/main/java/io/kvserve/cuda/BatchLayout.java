package io.kvserve.cuda;

import io.kvserve.engine.model.ForwardBatch;

import java.util.Arrays;

/**
 * A {@link ForwardBatch} flattened into the int arrays the kernels read, in host buffers allocated
 * once and refilled every step (then copied to their device twins in one go), padded to
 * {@code numTokensPadded} tokens so a captured decode graph always sees the same sizes.
 *
 * <pre>
 *   token t < numTokens         tokenIds[t], positions[t], slots[t] = blockTable[p / bs] * bs + p % bs,
 *                               tokenSeqs[t] = its sequence
 *   padding t >= numTokens      tokenId 0, position -1 (attention skips it), slot -1 (no KV write),
 *                               sequence 0
 *   blockTables                 (maxNumSeqs, blockTableStride), row s = sequence s's blocks, then -1
 *   logitsIndices               (numLogitsRows) the batch's, then padding rows point at token 0
 * </pre>
 */
public final class BatchLayout {

    private final int blockSize;
    private final int blockTableStride;
    private final int numKvBlocks;
    final int[] tokenIds;      // (maxTokens)
    final int[] positions;     // (maxTokens)
    final int[] slots;         // (maxTokens)
    final int[] tokenSeqs;     // (maxTokens)
    final int[] blockTables;   // (maxSeqs, blockTableStride)
    final int[] logitsIndices; // (maxTokens)
    private int numTokens;
    private int numTokensPadded;
    private int numSeqs;
    private int numLogitsRows;
    private int numLogitsRowsPadded;
    private int maxContextLen;

    /**
     * @param maxTokens        most tokens of a step (padding included)
     * @param maxSeqs          most sequences of a step
     * @param blockSize        tokens per KV block
     * @param blockTableStride block ids per sequence row (ceil(maxModelLen / blockSize))
     * @param numKvBlocks      blocks of the device's cache: every block id must be below it (a
     *                         kernel would write outside the cache)
     */
    public BatchLayout(int maxTokens, int maxSeqs, int blockSize, int blockTableStride, int numKvBlocks) {
        this.blockSize = blockSize;
        this.blockTableStride = blockTableStride;
        this.numKvBlocks = numKvBlocks;
        tokenIds = new int[maxTokens];
        positions = new int[maxTokens];
        slots = new int[maxTokens];
        tokenSeqs = new int[maxTokens];
        blockTables = new int[maxSeqs * blockTableStride];
        logitsIndices = new int[maxTokens];
    }

    /**
     * Fills the arrays from {@code batch}, padded to {@code numTokensPadded} tokens and logits rows.
     *
     * @throws IllegalArgumentException for a batch larger than the buffers, a sequence longer than
     *                                  the block table stride, or a block table that does not cover a
     *                                  sequence or names a block outside the cache; nothing is
     *                                  half-filled that a later fill would not overwrite
     */
    public void fill(ForwardBatch batch, int numTokensPadded) {
        int n = batch.numTokens();
        if (numTokensPadded < n || numTokensPadded > tokenIds.length) {
            throw new IllegalArgumentException("padded size " + numTokensPadded + " for " + n + " tokens, buffers of "
                    + tokenIds.length);
        }
        if (batch.numSeqs() * blockTableStride > blockTables.length) {
            throw new IllegalArgumentException(batch.numSeqs() + " sequences, the block tables hold "
                    + blockTables.length / blockTableStride);
        }
        int maxContext = 0;
        for (int s = 0; s < batch.numSeqs(); s++) {
            int[] table = batch.blockTables()[s];
            int start = batch.seqStarts()[s];
            int end = batch.seqStarts()[s + 1];
            int lastPosition = batch.startPositions()[s] + end - start - 1;
            int numBlocks = lastPosition / blockSize + 1;
            if (numBlocks > blockTableStride) {
                throw new IllegalArgumentException("sequence " + s + " reaches position " + lastPosition + ": " + numBlocks
                        + " blocks, the device block tables hold " + blockTableStride + " per sequence");
            }
            if (table.length < numBlocks) {
                throw new IllegalArgumentException("sequence " + s + " reaches position " + lastPosition + ", which needs "
                        + numBlocks + " blocks of " + blockSize + ", its block table has " + table.length);
            }
            for (int b = 0; b < numBlocks; b++) {
                if (table[b] < 0 || table[b] >= numKvBlocks) {
                    throw new IllegalArgumentException("sequence " + s + " names block " + table[b]
                            + ", the cache has blocks 0.." + (numKvBlocks - 1));
                }
            }
            int row = s * blockTableStride;
            System.arraycopy(table, 0, blockTables, row, numBlocks);
            Arrays.fill(blockTables, row + numBlocks, row + blockTableStride, -1);
            for (int t = start, p = batch.startPositions()[s]; t < end; t++, p++) {
                tokenIds[t] = batch.tokenIds()[t];
                positions[t] = p;
                slots[t] = table[p / blockSize] * blockSize + p % blockSize;
                tokenSeqs[t] = s;
            }
            maxContext = Math.max(maxContext, lastPosition + 1);
        }
        Arrays.fill(tokenIds, n, numTokensPadded, 0);
        Arrays.fill(positions, n, numTokensPadded, -1);
        Arrays.fill(slots, n, numTokensPadded, -1);
        Arrays.fill(tokenSeqs, n, numTokensPadded, 0);
        int rows = batch.numLogitsRows();
        int rowsPadded = numTokensPadded > n ? Math.max(rows, numTokensPadded) : rows;
        if (rowsPadded > logitsIndices.length) {
            throw new IllegalArgumentException(rowsPadded + " logits rows, buffers of " + logitsIndices.length);
        }
        System.arraycopy(batch.logitsIndices(), 0, logitsIndices, 0, rows);
        Arrays.fill(logitsIndices, rows, rowsPadded, 0);
        this.numTokens = n;
        this.numTokensPadded = numTokensPadded;
        this.numSeqs = batch.numSeqs();
        this.numLogitsRows = rows;
        this.numLogitsRowsPadded = rowsPadded;
        this.maxContextLen = maxContext;
    }

    public int numTokens() {
        return numTokens;
    }

    public int numTokensPadded() {
        return numTokensPadded;
    }

    public int numSeqs() {
        return numSeqs;
    }

    public int numLogitsRows() {
        return numLogitsRows;
    }

    /** Logits rows the kernels compute: the batch's, or at least numTokensPadded for a padded batch. */
    public int numLogitsRowsPadded() {
        return numLogitsRowsPadded;
    }

    /** The longest context (last position + 1) of any sequence of the batch. */
    public int maxContextLen() {
        return maxContextLen;
    }

    public int blockTableStride() {
        return blockTableStride;
    }
}
