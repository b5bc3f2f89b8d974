package io.kvserve.common.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.kvcache.BlockHash;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KvEventEntryTest {

    private static final BlockHash A = new BlockHash(0x0123456789abcdefL, 0xfedcba9876543210L);
    private static final BlockHash B = new BlockHash(1, 2);
    private static final BlockHash C = new BlockHash(-1, 3);

    @Test
    void encodeEvents_everyType_isTheDocumentedJson() {
        String json = KvEventEntry.encodeEvents(List.of(new KvStreamEvent.Reset(),
                new KvStreamEvent.Stored(List.of(A, B), Optional.empty(), 16),
                new KvStreamEvent.Stored(List.of(C), Optional.of(B), 16),
                new KvStreamEvent.Removed(List.of(C)), new KvStreamEvent.Cleared()));

        assertThat(json).isEqualTo("[{\"type\":\"reset\"},"
                + "{\"type\":\"stored\",\"block_hashes\":[\"0123456789abcdeffedcba9876543210\","
                + "\"00000000000000010000000000000002\"],\"parent_hash\":null,\"block_size\":16},"
                + "{\"type\":\"stored\",\"block_hashes\":[\"ffffffffffffffff0000000000000003\"],"
                + "\"parent_hash\":\"00000000000000010000000000000002\",\"block_size\":16},"
                + "{\"type\":\"removed\",\"block_hashes\":[\"ffffffffffffffff0000000000000003\"]},"
                + "{\"type\":\"cleared\"}]");
    }

    @Test
    void fields_roundTrip_equalEntry() {
        KvEventEntry entry = new KvEventEntry("host-8000-ab12", "9f3c0d2a11b7e6f4", 7, "tiny", 1_700_000_000_123L,
                List.of(new KvStreamEvent.Stored(List.of(A, B), Optional.of(C), 16),
                        new KvStreamEvent.Removed(List.of(A)), new KvStreamEvent.Cleared(), new KvStreamEvent.Reset()));

        Map<String, String> fields = entry.toFields();

        assertThat(fields).containsKeys("instance", "epoch", "seq", "model", "ts", "events")
                .containsEntry("seq", "7").containsEntry("ts", "1700000000123");
        assertThat(KvEventEntry.fromFields(fields)).isEqualTo(entry);
    }

    @Test
    void decodeEvents_unknownTypeOrBadHash_rejected() {
        assertThatThrownBy(() -> KvEventEntry.decodeEvents("[{\"type\":\"moved\"}]"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("moved");
        assertThatThrownBy(() -> KvEventEntry.decodeEvents("[{\"type\":\"removed\",\"block_hashes\":[\"abc\"]}]"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KvEventEntry.decodeEvents("{\"type\":\"reset\"}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("array");
    }

    @Test
    void fromFields_missingField_rejectedNamingIt() {
        assertThatThrownBy(() -> KvEventEntry.fromFields(Map.of("instance", "i", "epoch", "e", "seq", "1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'model'");
    }
}
