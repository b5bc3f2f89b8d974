package io.kvserve.engine.model;

import java.util.Objects;

/**
 * One forward step over several sequences: the seam between the scheduler (which decides what runs)
 * and {@link LlamaModel} (which runs it), as vLLM v1's flattened input batch [1].
 *
 * <p>The new tokens of all sequences are laid end to end; sequence s owns tokens
 * {@code seqStarts[s]..seqStarts[s+1]-1}, at consecutive positions from {@code startPositions[s]}.
 * Its earlier positions {@code 0..startPositions[s]-1} are already in the KV cache, in the blocks of
 * {@code blockTables[s]}. Example: a decode of sequence A (position 40) and a prefill chunk of B
 * (positions 16..19, 0..15 a cached prefix):
 * <pre>
 *   token index      0  | 1  2  3  4
 *   tokenIds         a  | b0 b1 b2 b3
 *   sequence         A  | B  B  B  B          seqStarts      = [0, 1, 5]
 *   position         40 | 16 17 18 19         startPositions = [40, 16]
 *   blockTables      A: [7, 2, 9]   (48 slots, 41 used)   B: [4, 5]   (32 slots, 20 used)
 *   logitsIndices    [0, 4]: one logits row per sequence, its last token
 * </pre>
 * Token t of sequence s attends to positions {@code 0..position(t)} of s (causal) and writes its K
 * and V to slot {@code blockTable[position / blockSize] * blockSize + position % blockSize}.
 *
 * <p>[1] vLLM, vllm/v1/worker/gpu_input_batch.py and gpu_model_runner.py ({@code _prepare_inputs}:
 * query_start_loc, positions, block tables, logits_indices).
 *
 * @param tokenIds       (numTokens) the new tokens, sequence by sequence
 * @param seqStarts      (numSeqs + 1) token index where each sequence starts, then numTokens
 * @param startPositions (numSeqs) position of each sequence's first new token
 * @param blockTables    (numSeqs) each sequence's block ids, covering at least its last new position
 * @param logitsIndices  token indices whose logits rows the forward writes, in this order (usually
 *                       each sequence's last token; every token for a teacher-forced dump)
 */
public record ForwardBatch(int[] tokenIds, int[] seqStarts, int[] startPositions, int[][] blockTables,
                           int[] logitsIndices) {

    public ForwardBatch {
        Objects.requireNonNull(tokenIds, "tokenIds");
        Objects.requireNonNull(seqStarts, "seqStarts");
        Objects.requireNonNull(startPositions, "startPositions");
        Objects.requireNonNull(blockTables, "blockTables");
        Objects.requireNonNull(logitsIndices, "logitsIndices");
        int numSeqs = startPositions.length;
        if (numSeqs == 0 || seqStarts.length != numSeqs + 1 || blockTables.length != numSeqs) {
            throw new IllegalArgumentException("a batch of " + numSeqs + " sequences needs " + (numSeqs + 1)
                    + " seqStarts and " + numSeqs + " block tables, got " + seqStarts.length + " and " + blockTables.length);
        }
        if (seqStarts[0] != 0 || seqStarts[numSeqs] != tokenIds.length) {
            throw new IllegalArgumentException("seqStarts must run from 0 to numTokens " + tokenIds.length);
        }
        for (int s = 0; s < numSeqs; s++) {
            if (seqStarts[s + 1] <= seqStarts[s]) {
                throw new IllegalArgumentException("sequence " + s + " has no new tokens");
            }
            if (startPositions[s] < 0) {
                throw new IllegalArgumentException("sequence " + s + " starts at negative position " + startPositions[s]);
            }
        }
        for (int index : logitsIndices) {
            if (index < 0 || index >= tokenIds.length) {
                throw new IllegalArgumentException("logits index " + index + " outside 0.." + (tokenIds.length - 1));
            }
        }
    }

    /** One sequence whose tokens are fed at positions {@code startPosition..}; logits of the last token only. */
    public static ForwardBatch single(int[] tokenIds, int startPosition, int[] blockTable) {
        return new ForwardBatch(tokenIds, new int[] {0, tokenIds.length}, new int[] {startPosition},
                new int[][] {blockTable}, new int[] {tokenIds.length - 1});
    }

    public int numTokens() {
        return tokenIds.length;
    }

    public int numSeqs() {
        return startPositions.length;
    }

    /** Rows of logits the forward writes. */
    public int numLogitsRows() {
        return logitsIndices.length;
    }
}
