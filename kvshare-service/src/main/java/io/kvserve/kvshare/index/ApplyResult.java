package io.kvserve.kvshare.index;

/**
 * What {@link KvIndex#apply} did with one KV event entry.
 *
 * @param status      how the entry related to the instance's (epoch, seq) state
 * @param numGapSeqs  seqs found missing before this entry (0 unless it opened a gap)
 * @param numStored   blocks newly added to the instance (a stored block it already held is not counted)
 * @param numRemoved  blocks the instance held and no longer holds
 * @param numDropped  blocks dropped by a new epoch, {@code cleared} or {@code reset}
 */
public record ApplyResult(Status status, long numGapSeqs, long numStored, long numRemoved, long numDropped) {

    /** How an entry's (epoch, seq) related to what the index had applied for its instance. */
    public enum Status {
        /** The next seq, or a later one (then {@link #numGapSeqs} says how many are missing); applied. */
        APPLIED,
        /** A seq at or below the last applied one and not missing: applied before, skipped. */
        DUPLICATE,
        /** A seq that was missing (another consumer applied later ones first); applied, the gap shrinks. */
        LATE,
        /** A different epoch than the stored one (the instance restarted): old blocks dropped, then applied. */
        NEW_EPOCH,
        /**
         * An epoch the instance already left (a late entry of its previous life, delivered after the new
         * epoch's first entry by another consumer): skipped, or it would undo the restart.
         */
        STALE_EPOCH
    }
}
