package io.kvserve.engine.sched;

import io.kvserve.engine.model.ForwardBatch;
import java.util.List;

/**
 * One step's decision, the record that passes from the scheduler to the model runner (vLLM v1's
 * {@code SchedulerOutput}). Running sequences come first in {@link #sequences()}, then the ones
 * admitted this step; {@link #preemptedIds()} lost their KV this step and wait to be recomputed.
 *
 * @param sequences        what runs, in batch order
 * @param preemptedIds     requests preempted this step (their blocks are already freed)
 * @param numBatchedTokens new tokens over all sequences, at most the step's token budget
 */
public record SchedulerOutput(List<ScheduledSequence> sequences, List<String> preemptedIds, int numBatchedTokens) {

    public SchedulerOutput {
        sequences = List.copyOf(sequences);
        preemptedIds = List.copyOf(preemptedIds);
    }

    public boolean isEmpty() {
        return sequences.isEmpty();
    }

    /** Sequences that sample a token this step: the logits rows of the forward, in order. */
    public int numSampling() {
        int n = 0;
        for (ScheduledSequence s : sequences) {
            if (s.samples()) {
                n++;
            }
        }
        return n;
    }

    /**
     * The flattened model input: sequences end to end, one logits row for each sequence that
     * samples (its last token), in sequence order; a partial prefill chunk asks for no logits.
     * <pre>
     *   sequences   A decode (samples) | B chunk 0..3 (partial) | C last chunk (samples)
     *   tokenIds    a                  | b0 b1 b2 b3            | c0 c1
     *   seqStarts   [0, 1, 5, 7]                 logitsIndices [0, 6]
     * </pre>
     * Must not be called on an empty output.
     */
    public ForwardBatch toForwardBatch() {
        int numSeqs = sequences.size();
        int[] tokenIds = new int[numBatchedTokens];
        int[] seqStarts = new int[numSeqs + 1];
        int[] startPositions = new int[numSeqs];
        int[][] blockTables = new int[numSeqs][];
        int[] logitsIndices = new int[numSampling()];
        int t = 0;
        int row = 0;
        for (int s = 0; s < numSeqs; s++) {
            ScheduledSequence seq = sequences.get(s);
            seqStarts[s] = t;
            System.arraycopy(seq.tokenIds(), 0, tokenIds, t, seq.numNewTokens());
            t += seq.numNewTokens();
            startPositions[s] = seq.startPosition();
            blockTables[s] = seq.blockTable();
            if (seq.samples()) {
                logitsIndices[row++] = t - 1;
            }
        }
        seqStarts[numSeqs] = t;
        return new ForwardBatch(tokenIds, seqStarts, startPositions, blockTables, logitsIndices);
    }
}
