package io.kvserve.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;

/** {@code helm lint --strict} on the chart: structure, Chart.yaml, values and templates that render. */
class ChartLintTest {

    @Test
    void lint_strict_passesWithoutFindings() {
        LintResult result = new Helm(RenderedChart.chart()).lint().strict().call();

        assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
        assertThat(result.getMessages()).as("strict lint turns warnings into failures")
                .noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }
}
