package io.kvserve.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** NOTES.txt, as a client-only dry-run install prints it: how to reach the gateway and get an API key. */
class NotesTest {

    static String notes(Map<String, String> sets) {
        var install = new Helm(RenderedChart.chart()).install().withName(RenderedChart.RELEASE)
                .withNamespace(RenderedChart.NAMESPACE).withKubeVersion(RenderedChart.KUBE_VERSION)
                .clientOnly().dryRun().withDryRunOption(DryRun.CLIENT);
        for (Map.Entry<String, String> set : sets.entrySet()) {
            install = install.set(set.getKey(), set.getValue());
        }
        return install.call().getOutput();
    }

    @Test
    void notes_defaults_tellHowToGetAnApiKeyFromTheRenderedSecretAndGateway() {
        String notes = notes(Map.of());

        assertThat(notes).contains("port-forward service/kv-kvserve-gateway 8080:8080")
                .contains("get secret kv-kvserve-tokens")
                .contains("{.data.gateway-operator-token}")
                .contains("/admin/v1/tenants/demo/keys")
                .contains("\"model\":\"demo-tiny\"")
                .contains("bundled (single pod, no persistence");
    }

    @Test
    void notes_existingSecret_pointAtIt() {
        String notes = notes(Map.of("secrets.existingSecret", "platform-tokens",
                "redis.enabled", "false", "redis.url", "redis://r:6379"));

        assertThat(notes).contains("get secret platform-tokens").contains("Redis: external");
    }
}
