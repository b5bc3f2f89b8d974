package io.kvserve.cli.benchserving.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadCurveTest {

    @TempDir
    Path dir;

    @Test
    void of_openLoopSweep_givesAscendingRatesWithoutInfPerWorkload() throws IOException {
        List<ServingRun> runs = List.of(
                ServingRunReader.read(RunFiles.openLoop(dir, "r40", "40.0", 600, 1, 30, 0.75, 10)),
                ServingRunReader.read(RunFiles.openLoop(dir, "rinf", "inf", 999, 1, 1, 0.1, 10)),
                ServingRunReader.read(RunFiles.openLoop(dir, "r10", "10.0", 160, 1, 9.5, 0.95, 10)),
                ServingRunReader.read(RunFiles.closedLoop(dir, "c4", 4, 500, 1, 10)));

        List<LoadCurve> curves = LoadCurve.of(runs, LoadCurve.Axis.REQUEST_RATE);

        assertThat(curves).hasSize(1);
        LoadCurve c = curves.getFirst();
        assertThat(c.name()).isEqualTo("random");
        assertThat(c.loads()).containsExactly(10.0, 40.0);
        assertThat(c.outputTokensPerSecond()).containsExactly(160.0, 600.0);
        assertThat(c.requestsPerSecond()).containsExactly(10.0, 37.5);
        assertThat(c.goodputRequestsPerSecond()).containsExactly(9.5, 30.0);
        assertThat(c.hasGoodput()).isTrue();
    }

    @Test
    void of_closedLoopSweep_givesConcurrenciesAndNaNGoodput() throws IOException {
        List<ServingRun> runs = List.of(
                ServingRunReader.read(RunFiles.closedLoop(dir, "c8", 8, 800, 1, 10)),
                ServingRunReader.read(RunFiles.closedLoop(dir, "c1", 1, 160, 1, 10)));

        LoadCurve c = LoadCurve.of(runs, LoadCurve.Axis.CONCURRENCY).getFirst();

        assertThat(c.loads()).containsExactly(1.0, 8.0);
        assertThat(c.outputTokensPerSecond()).containsExactly(160.0, 800.0);
        assertThat(c.hasGoodput()).isFalse();
        assertThat(LoadCurve.of(runs, LoadCurve.Axis.REQUEST_RATE)).isEmpty();
    }

    @Test
    void of_oneWorkloadSweptTwice_givesACurvePerSweepNamedByLabelPrefix() throws IOException {
        List<ServingRun> runs = OfferedLoad.inOrder(List.of(
                ServingRunReader.read(RunFiles.openLoop(dir, "on-r1", "1.0", 100, 1, 1, 1, 10)),
                ServingRunReader.read(RunFiles.openLoop(dir, "on-r2", "2.0", 200, 1, 2, 1, 10)),
                ServingRunReader.read(RunFiles.openLoop(dir, "off-r1", "1.0", 90, 1, 1, 1, 10)),
                ServingRunReader.read(RunFiles.openLoop(dir, "off-r2", "2.0", 150, 1, 1, 1, 10))));

        List<LoadCurve> curves = LoadCurve.of(runs, LoadCurve.Axis.REQUEST_RATE);

        assertThat(curves).extracting(LoadCurve::name).containsExactly("on-r*", "off-r*");
        assertThat(curves.get(0).loads()).containsExactly(1.0, 2.0);
        assertThat(curves.get(0).outputTokensPerSecond()).containsExactly(100.0, 200.0);
        assertThat(curves.get(1).outputTokensPerSecond()).containsExactly(90.0, 150.0);
    }

    @Test
    void of_singlePointPerCurve_givesNoCurve() throws IOException {
        Path other = dir.resolve("other.json");
        java.nio.file.Files.writeString(other, """
                {"config": {"mode": "closed_loop", "concurrency": 8, "workload": "shared-prefix"},
                 "summary": {"completed": 1, "output_throughput": 10.0}, "requests": []}
                """);
        List<ServingRun> runs = List.of(
                ServingRunReader.read(RunFiles.closedLoop(dir, "random-c4", 4, 800, 1, 10)),
                ServingRunReader.read(other));

        assertThat(LoadCurve.of(runs, LoadCurve.Axis.CONCURRENCY)).isEmpty();
    }

    @Test
    void of_oneDistinctLoad_givesNoCurve() throws IOException {
        List<ServingRun> runs = List.of(
                ServingRunReader.read(RunFiles.closedLoop(dir, "a", 4, 800, 1, 10)),
                ServingRunReader.read(RunFiles.closedLoop(dir, "b", 4, 700, 1, 10)));

        assertThat(LoadCurve.of(runs, LoadCurve.Axis.CONCURRENCY)).isEmpty();
    }
}
