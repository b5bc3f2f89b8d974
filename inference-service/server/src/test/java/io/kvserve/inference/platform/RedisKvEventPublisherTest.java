package io.kvserve.inference.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.engine.kv.KvEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RedisKvEventPublisherTest {

    private static final BlockHash H0 = new BlockHash(0, 10);
    private static final BlockHash H1 = new BlockHash(0, 11);
    private static final BlockHash H2 = new BlockHash(0, 12);
    private static final BlockHash OTHER = new BlockHash(0, 20);

    /** A stream in a list that fails while {@code down}. */
    static final class ListWriter implements KvEventStreamWriter {
        final List<KvEventEntry> entries = new ArrayList<>();
        boolean down;

        @Override
        public void append(KvEventEntry entry) {
            if (down) {
                throw new IllegalStateException("Redis is down");
            }
            entries.add(KvEventEntry.fromFields(entry.toFields())); // through the wire format
        }

        @Override
        public boolean ping() {
            return !down;
        }
    }

    private final ListWriter writer = new ListWriter();
    private final AtomicInteger numReannounces = new AtomicInteger();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private RedisKvEventPublisher publisher(int capacity, int maxEventsPerEntry) {
        return new RedisKvEventPublisher(writer, () -> "inst-1", "epoch-a", "tiny", capacity, 4, maxEventsPerEntry,
                Duration.ofMillis(50), numReannounces::incrementAndGet, meters, () -> 1234L);
    }

    private static KvEvent.BlockStored stored(BlockHash hash, BlockHash parent) {
        return new KvEvent.BlockStored(hash, Optional.ofNullable(parent), 16);
    }

    private List<Long> seqs() {
        return writer.entries.stream().map(KvEventEntry::seq).toList();
    }

    @Test
    void flush_first_publishesResetAloneWithSeqOne() {
        RedisKvEventPublisher publisher = publisher(100, 100);

        publisher.flush();
        publisher.flush();

        assertThat(writer.entries).containsExactly(new KvEventEntry("inst-1", "epoch-a", 1, "tiny", 1234L,
                List.of(new KvStreamEvent.Reset())));
    }

    @Test
    void flush_chainedStoresAndRemovals_mergedInOrderIntoOneEntry() {
        RedisKvEventPublisher publisher = publisher(100, 100);
        publisher.flush();
        publisher.onEvent(stored(H0, null));
        publisher.onEvent(stored(H1, H0));
        publisher.onEvent(stored(H2, H1));
        publisher.onEvent(stored(OTHER, null));
        publisher.onEvent(new KvEvent.BlockRemoved(H2));
        publisher.onEvent(new KvEvent.BlockRemoved(H1));
        publisher.onEvent(new KvEvent.AllCleared());

        publisher.flush();

        assertThat(seqs()).containsExactly(1L, 2L);
        assertThat(writer.entries.get(1).events()).containsExactly(
                new KvStreamEvent.Stored(List.of(H0, H1, H2), Optional.empty(), 16),
                new KvStreamEvent.Stored(List.of(OTHER), Optional.empty(), 16),
                new KvStreamEvent.Removed(List.of(H2, H1)), new KvStreamEvent.Cleared());
        assertThat(publisher.numPublished()).isEqualTo(7);
        assertThat(meters.counter("kvserve.kv.events.published").count()).isEqualTo(7);
    }

    @Test
    void flush_moreThanMaxEventsPerEntry_splitIntoConsecutiveSeqs() {
        RedisKvEventPublisher publisher = publisher(100, 2);
        for (int i = 0; i < 5; i++) {
            publisher.onEvent(new KvEvent.BlockRemoved(new BlockHash(1, i)));
        }

        publisher.flush();

        assertThat(seqs()).containsExactly(1L, 2L, 3L);
        assertThat(writer.entries.getFirst().events()).first().isEqualTo(new KvStreamEvent.Reset());
        assertThat(writer.entries.stream().mapToInt(e -> e.events().stream()
                .mapToInt(ev -> ev instanceof KvStreamEvent.Removed r ? r.blockHashes().size() : 0).sum()).sum())
                .isEqualTo(5);
        assertThat(numReannounces).hasValue(0);
    }

    @Test
    void onEvent_bufferFull_dropsCountsJumpsSeqAndReannouncesOnce() {
        RedisKvEventPublisher publisher = publisher(2, 100);
        publisher.flush();
        publisher.onEvent(stored(H0, null));
        publisher.onEvent(stored(H1, H0));
        publisher.onEvent(stored(H2, H1)); // dropped

        publisher.flush();

        assertThat(publisher.numDropped()).isEqualTo(1);
        assertThat(meters.counter("kvserve.kv.events.dropped").count()).isEqualTo(1);
        assertThat(seqs()).containsExactly(1L, 3L);
        assertThat(numReannounces).hasValue(1);
        publisher.flush();
        assertThat(numReannounces).hasValue(1);
    }

    @Test
    void flush_redisDown_entryLostSeqSkippedAndReannounceWaitsUntilRedisAnswers() {
        RedisKvEventPublisher publisher = publisher(100, 100);
        writer.down = true;
        publisher.onEvent(stored(H0, null));

        publisher.flush(); // the reset and H0 fail: seq 1 is lost
        publisher.flush(); // nothing waits; Redis still down: no re-announce yet

        assertThat(writer.entries).isEmpty();
        assertThat(publisher.numDropped()).isEqualTo(1);
        assertThat(numReannounces).hasValue(0);

        writer.down = false;
        publisher.flush();

        assertThat(numReannounces).hasValue(1);
        assertThat(writer.entries).singleElement().satisfies(e -> {
            assertThat(e.seq()).isEqualTo(2);
            assertThat(e.events()).containsExactly(new KvStreamEvent.Reset());
        });
    }

    @Test
    void requestReannounce_redisUp_asksTheEngineAtTheNextFlush() {
        RedisKvEventPublisher publisher = publisher(100, 100);
        publisher.flush();

        publisher.requestReannounce();
        publisher.flush();

        assertThat(numReannounces).hasValue(1);
        assertThat(seqs()).containsExactly(1L);
    }

    @Test
    void startStop_publisherThread_publishesWithinTheIntervalAndFlushesOnStop() throws Exception {
        RedisKvEventPublisher publisher = publisher(100, 100);
        publisher.start();
        publisher.onEvent(stored(H0, null));
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (publisher.numPublished() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        publisher.onEvent(stored(H1, H0));
        publisher.stop();

        assertThat(publisher.numPublished()).isEqualTo(2);
        assertThat(publisher.isRunning()).isFalse();
    }
}
