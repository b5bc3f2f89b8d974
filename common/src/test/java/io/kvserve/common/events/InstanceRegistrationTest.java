package io.kvserve.common.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InstanceRegistrationTest {

    private static final InstanceRegistration REGISTRATION = new InstanceRegistration("host-8000-ab12",
            "http://host:8000", "tiny", "llama", 16, 64, 256, 1024, "9f3c0d2a11b7e6f4", 1_700_000_000_000L,
            1_700_000_002_000L, 3, 1, 0.25, 41.5, InstanceStatus.DRAINING);

    @Test
    void hash_roundTrip_snakeCaseFields() {
        Map<String, String> hash = REGISTRATION.toHash();

        assertThat(hash.keySet()).containsExactly("id", "url", "model", "architecture", "block_size", "num_kv_blocks",
                "max_model_len", "kv_capacity_tokens", "epoch", "started_at_ms", "heartbeat_at_ms", "num_running",
                "num_waiting", "kv_cache_usage", "tokens_per_second", "status");
        assertThat(hash).containsEntry("status", "draining").containsEntry("kv_cache_usage", "0.25");
        assertThat(InstanceRegistration.fromHash(hash)).isEqualTo(REGISTRATION);
    }

    @Test
    void fromHash_missingOrBadField_rejected() {
        Map<String, String> hash = new HashMap<>(REGISTRATION.toHash());
        hash.remove("epoch");
        assertThatThrownBy(() -> InstanceRegistration.fromHash(hash)).hasMessageContaining("'epoch'");
        hash.put("epoch", "e");
        hash.put("status", "gone");
        assertThatThrownBy(() -> InstanceRegistration.fromHash(hash)).hasMessageContaining("gone");
    }

    @Test
    void keys_areTheDocumentedNames() {
        assertThat(RedisKeys.instance("a")).isEqualTo("kvserve:instance:a");
        assertThat(RedisKeys.reannounceChannel("a")).isEqualTo("kvserve:instance:a:reannounce");
        assertThat(RedisKeys.INSTANCES).isEqualTo("kvserve:instances");
        assertThat(RedisKeys.DEFAULT_KV_EVENT_STREAM).isEqualTo("kvserve:kv-events");
    }
}
