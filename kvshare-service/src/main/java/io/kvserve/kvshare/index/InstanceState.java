package io.kvserve.kvshare.index;

/**
 * What the index knows about one instance.
 *
 * @param instanceId   the instance id
 * @param epoch        the epoch of the entries applied
 * @param seq          the highest seq applied in that epoch
 * @param model        the model of the latest entry
 * @param tsMs         publish time of the latest applied entry, epoch ms
 * @param numBlocks    blocks the instance holds in the index
 * @param numMissing   seqs below {@code seq} not yet seen (a gap)
 * @param needsResync  the gap was too large to track seq by seq: only a re-announce repairs it
 */
public record InstanceState(String instanceId, String epoch, long seq, String model, long tsMs, long numBlocks,
                            long numMissing, boolean needsResync) {
}
