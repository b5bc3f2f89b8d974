package io.kvserve.inference.platform;

import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.engine.kv.KvEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns the engine's {@link KvEvent}s into the stream's {@link KvStreamEvent}s, merging runs: a
 * {@code BlockStored} whose parent is the last hash of the stored event before it (same block size)
 * extends that event, as vLLM batches {@code BlockStored}; consecutive {@code BlockRemoved} become one
 * removed event. Order is kept. Not thread-safe: the publisher thread owns it.
 */
final class KvEventBatcher {

    private final List<KvStreamEvent> done = new ArrayList<>();
    private List<BlockHash> runHashes;            // the open stored or removed run, null when none
    private Optional<BlockHash> runParent = Optional.empty();
    private int runBlockSize;                     // > 0 for a stored run, 0 for a removed run
    private int numEngineEvents;

    void add(KvEvent event) {
        numEngineEvents++;
        switch (event) {
            case KvEvent.BlockStored s -> {
                if (runHashes != null && runBlockSize == s.numTokens()
                        && s.parentHash().isPresent() && s.parentHash().get().equals(runHashes.getLast())) {
                    runHashes.add(s.hash());
                } else {
                    closeRun();
                    runHashes = new ArrayList<>();
                    runHashes.add(s.hash());
                    runParent = s.parentHash();
                    runBlockSize = s.numTokens();
                }
            }
            case KvEvent.BlockRemoved r -> {
                if (runHashes == null || runBlockSize != 0) {
                    closeRun();
                    runHashes = new ArrayList<>();
                    runBlockSize = 0;
                }
                runHashes.add(r.hash());
            }
            case KvEvent.AllCleared c -> {
                closeRun();
                done.add(new KvStreamEvent.Cleared());
            }
        }
    }

    /** Engine events added since the last {@link #drain()}. */
    int numEngineEvents() {
        return numEngineEvents;
    }

    boolean isEmpty() {
        return numEngineEvents == 0;
    }

    /** The merged events, oldest first; the batcher is empty afterwards. */
    List<KvStreamEvent> drain() {
        closeRun();
        List<KvStreamEvent> out = List.copyOf(done);
        done.clear();
        numEngineEvents = 0;
        return out;
    }

    private void closeRun() {
        if (runHashes == null) {
            return;
        }
        done.add(runBlockSize > 0 ? new KvStreamEvent.Stored(runHashes, runParent, runBlockSize)
                : new KvStreamEvent.Removed(runHashes));
        runHashes = null;
        runParent = Optional.empty();
    }
}
