package io.kvserve.cli.benchserving.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatencyCdfTest {

    @TempDir
    Path dir;

    @Test
    void of_valuesWithTies_givesOnePointPerDistinctValueAtTheShareAtOrBelow() {
        LatencyCdf cdf = LatencyCdf.of(new double[] {30, 10, 20, 20});

        assertThat(cdf.points()).containsExactly(new LatencyCdf.Point(10, 0.25), new LatencyCdf.Point(20, 0.75),
                new LatencyCdf.Point(30, 1.0));
        assertThat(cdf.numValues()).isEqualTo(4);
    }

    @Test
    void of_nanValues_areLeftOutOfTheShares() {
        LatencyCdf cdf = LatencyCdf.of(new double[] {Double.NaN, 5, 15});

        assertThat(cdf.points()).containsExactly(new LatencyCdf.Point(5, 0.5), new LatencyCdf.Point(15, 1.0));
        assertThat(cdf.numValues()).isEqualTo(2);
    }

    @Test
    void of_noValues_isEmpty() {
        assertThat(LatencyCdf.of(new double[0]).isEmpty()).isTrue();
    }

    @Test
    void of_run_takesMeasuredSuccessfulRequestsOnly() throws IOException {
        Path file = dir.resolve("mixed.json");
        Files.writeString(file, """
                {"summary": {"completed": 3},
                 "requests": [
                   {"index": 0, "warmup": true,  "ttft_ms": 1.0,  "e2e_ms": 10.0, "error": null},
                   {"index": 1, "warmup": false, "ttft_ms": 40.0, "e2e_ms": 400.0, "error": null},
                   {"index": 2, "warmup": false, "ttft_ms": 20.0, "e2e_ms": 200.0, "error": null},
                   {"index": 3, "warmup": false, "ttft_ms": 5.0,  "e2e_ms": 900.0, "error": {"key": "stream:incomplete"}},
                   {"index": 4, "warmup": false, "ttft_ms": 30.0, "e2e_ms": 300.0, "error": null},
                   {"index": 5, "warmup": false, "ttft_ms": 10.0, "e2e_ms": 100.0, "error": null}
                 ]}
                """);
        ServingRun run = ServingRunReader.read(file);

        LatencyCdf ttft = LatencyCdf.of(run, ServingRun.Request::ttftMs);
        LatencyCdf e2e = LatencyCdf.of(run, ServingRun.Request::e2eMs);

        assertThat(ttft.points()).containsExactly(new LatencyCdf.Point(10, 0.25), new LatencyCdf.Point(20, 0.5),
                new LatencyCdf.Point(30, 0.75), new LatencyCdf.Point(40, 1.0));
        assertThat(e2e.latenciesMs()).containsExactly(100, 200, 300, 400);
        assertThat(e2e.fractions()).containsExactly(0.25, 0.5, 0.75, 1.0);
    }

    @Test
    void wantsLogAxis_spreadAboveTwentyFold_isTrueAndBelowIsFalse() {
        LatencyCdf narrow = LatencyCdf.of(new double[] {10, 50, 150});
        LatencyCdf wide = LatencyCdf.of(new double[] {300});

        assertThat(ReportCharts.wantsLogAxis(List.of(narrow))).isFalse();
        assertThat(ReportCharts.wantsLogAxis(List.of(narrow, wide))).isTrue();
        assertThat(ReportCharts.wantsLogAxis(List.of())).isFalse();
    }
}
