package io.kvserve.inference.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.inference.config.InstanceProperties;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class InstanceIdentityTest {

    private static InstanceProperties properties(String id, String advertisedUrl) {
        return new InstanceProperties(id, advertisedUrl, Duration.ofSeconds(2), Duration.ofSeconds(10),
                Duration.ofSeconds(30), "");
    }

    @Test
    void id_unset_hostnamePortAndFourHexDigitsStableAcrossCalls() {
        InstanceIdentity identity = new InstanceIdentity(properties("", ""), () -> 8123);

        assertThat(identity.id()).matches(".+-8123-[0-9a-f]{4}").isEqualTo(identity.id());
        assertThat(identity.url()).startsWith("http://").endsWith(":8123");
        assertThat(identity.epoch()).matches("[0-9a-f]{16}");
    }

    @Test
    void id_configured_usedAsIsWithTheAdvertisedUrl() {
        InstanceIdentity identity = new InstanceIdentity(properties("gpu-7", "http://10.0.0.7:8000"), () -> {
            throw new AssertionError("the port is not needed");
        });

        assertThat(identity.id()).isEqualTo("gpu-7");
        assertThat(identity.url()).isEqualTo("http://10.0.0.7:8000");
    }

    @Test
    void epoch_twoStarts_differ() {
        assertThat(new InstanceIdentity(properties("a", ""), () -> 1).epoch())
                .isNotEqualTo(new InstanceIdentity(properties("a", ""), () -> 1).epoch());
    }
}
