package io.kvserve.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeploymentTest {

    @Test
    void interpolate_variables_becomeTheirDefaultsAsWithAnEmptyEnvironment() {
        Object interpolated = Deployment.interpolate(Map.of("a", List.of("${X:-one}", "x${Y-two}y", "${Z}", "$$HOME", 5)));

        assertThat(interpolated).isEqualTo(Map.of("a", List.of("one", "xtwoy", "", "$HOME", 5)));
    }

    @Test
    void words_splitStringsButKeepListItems() {
        assertThat(Deployment.words("serve  --port 8000")).containsExactly("serve", "--port", "8000");
        assertThat(Deployment.words(List.of("sh -c", 1))).containsExactly("sh -c", "1");
    }
}
