package io.kvserve.common.gguf;

/**
 * Produces a tensor's values one row at a time so a writer can stream a tensor without the caller
 * holding all of it. A row is {@code ne0} consecutive elements (the fastest-varying dimension); rows
 * are numbered 0 .. numElements/ne0 - 1 in storage order and requested in that order, once each.
 */
@FunctionalInterface
public interface RowSource {

    /**
     * Fills {@code row} (length ne0; its previous contents are unspecified) with row {@code rowIndex}.
     */
    void fillRow(long rowIndex, float[] row);
}
