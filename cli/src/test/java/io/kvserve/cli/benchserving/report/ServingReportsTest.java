package io.kvserve.cli.benchserving.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServingReportsTest {

    @TempDir
    Path dir;

    private String write(List<Path> files, Path out) throws IOException {
        StringWriter printed = new StringWriter();
        ServingReports.write(files, out, new PrintWriter(printed));
        return printed.toString();
    }

    private static BufferedImage png(Path file) throws IOException {
        BufferedImage image = ImageIO.read(file.toFile());
        assertThat(image).as(file + " decodes as an image").isNotNull();
        return image;
    }

    @Test
    void write_twoRunsAtDifferentRates_writesTheReportAndBothFigures() throws IOException {
        Path r1 = RunFiles.openLoop(dir, "r1", "1.0", 100, 50, 0.9, 0.9, 10, 20, 30);
        Path r4 = RunFiles.openLoop(dir, "r4", "4.0", 380, 400, 2.0, 0.5, 10, 200, 3000);
        Path out = dir.resolve("out");

        String printed = write(List.of(r4, r1), out);

        assertThat(printed.lines()).containsExactly("wrote " + out.resolve("report.md"), "wrote " + out.resolve("latency-cdf.png"),
                "wrote " + out.resolve("throughput-vs-rate.png"));
        BufferedImage cdf = png(out.resolve("latency-cdf.png"));
        assertThat(cdf.getWidth()).isEqualTo(2 * ReportCharts.PANEL_WIDTH_PIXELS);
        assertThat(cdf.getHeight()).isEqualTo(ReportCharts.PANEL_HEIGHT_PIXELS);
        BufferedImage throughput = png(out.resolve("throughput-vs-rate.png"));
        assertThat(throughput.getWidth()).isEqualTo(2 * ReportCharts.PANEL_WIDTH_PIXELS);
        assertThat(throughput.getHeight()).isEqualTo(ReportCharts.PANEL_HEIGHT_PIXELS);
        String md = Files.readString(out.resolve("report.md"));
        assertThat(md).contains("| | r1 | r4 |").contains("(throughput-vs-rate.png)").contains("(latency-cdf.png)");
    }

    @Test
    void write_openAndClosedSweeps_stacksARowOfPanelsForEach() throws IOException {
        List<Path> files = List.of(
                RunFiles.openLoop(dir, "r1", "1.0", 100, 50, 0.9, 0.9, 10),
                RunFiles.openLoop(dir, "r2", "2.0", 190, 60, 1.8, 0.9, 10),
                RunFiles.closedLoop(dir, "c1", 1, 300, 20, 10),
                RunFiles.closedLoop(dir, "c4", 4, 900, 70, 10));

        write(files, dir.resolve("out"));

        BufferedImage throughput = png(dir.resolve("out/throughput-vs-rate.png"));
        assertThat(throughput.getWidth()).isEqualTo(2 * ReportCharts.PANEL_WIDTH_PIXELS);
        assertThat(throughput.getHeight()).isEqualTo(2 * ReportCharts.PANEL_HEIGHT_PIXELS);
    }

    @Test
    void write_oneRun_writesNoThroughputFigure() throws IOException {
        Path out = dir.resolve("single");

        String printed = write(List.of(RunFiles.closedLoop(dir, "only", 4, 500, 99, 10, 20)), out);

        assertThat(printed).doesNotContain("throughput-vs-rate.png");
        assertThat(out.resolve("throughput-vs-rate.png")).doesNotExist();
        assertThat(out.resolve("latency-cdf.png")).exists();
        assertThat(Files.readString(out.resolve("report.md"))).startsWith("# Serving benchmark: only\n")
                .doesNotContain("throughput-vs-rate.png");
    }

    @Test
    void write_twoRunsAtOneLoad_writesNoThroughputFigure() throws IOException {
        write(List.of(RunFiles.closedLoop(dir, "a", 4, 500, 99, 10), RunFiles.closedLoop(dir, "b", 4, 600, 80, 10)), dir.resolve("out"));

        assertThat(dir.resolve("out/throughput-vs-rate.png")).doesNotExist();
    }

    @Test
    void write_runsInArgumentOrder_areComparedClosedLoopFirstThenByLoadTiesAsGiven() throws IOException {
        List<Path> files = List.of(
                RunFiles.openLoop(dir, "r100", "100.0", 1, 1, 1, 1, 10),
                RunFiles.openLoop(dir, "rinf", "inf", 1, 1, 1, 1, 10),
                RunFiles.openLoop(dir, "r10-b", "10.0", 1, 1, 1, 1, 10),
                RunFiles.closedLoop(dir, "c8", 8, 1, 1, 10),
                RunFiles.openLoop(dir, "r10-a", "10.0", 1, 1, 1, 1, 10),
                RunFiles.closedLoop(dir, "c2", 2, 1, 1, 10));
        Path out = dir.resolve("out");

        write(files, out);

        List<String> rowLabels = Files.readString(out.resolve("report.md")).lines()
                .filter(l -> l.startsWith("| ") && !l.startsWith("| run |"))
                .map(l -> l.substring(2, l.indexOf(" |", 2)))
                .toList();
        assertThat(rowLabels).containsExactly("c2", "c8", "r10-b", "r10-a", "r100", "rinf");
    }

    @Test
    void write_twoFilesWithOneName_labelsThemByFolder() throws IOException {
        Path a = RunFiles.closedLoop(Files.createDirectory(dir.resolve("before")), "run", 4, 500, 99, 10);
        Path b = RunFiles.closedLoop(Files.createDirectory(dir.resolve("after")), "run", 4, 600, 80, 10);

        write(List.of(a, b), dir.resolve("out"));

        assertThat(Files.readString(dir.resolve("out/report.md"))).contains("| | before/run | after/run |");
    }

    @Test
    void write_aBadFileAmongGoodOnes_failsNamingItAndWritesNothing() throws IOException {
        Path good = RunFiles.closedLoop(dir, "good", 4, 500, 99, 10);
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"config\": {}}");
        Path out = dir.resolve("out");

        assertThatThrownBy(() -> write(List.of(good, bad), out)).hasMessageContaining(bad.toString());
        assertThat(out).doesNotExist();
    }

    @Test
    void kvserveCli_registersBenchReport() {
        CommandLine cli = new CommandLine(new io.kvserve.cli.KvserveCli());

        assertThat(cli.getSubcommands()).containsKey("bench-report");
        Object command = cli.getSubcommands().get("bench-report").getCommand();
        assertThat(command).isInstanceOf(BenchReportCommand.class);
    }

    @Test
    void command_withoutOut_writesBesideTheFirstFile() throws IOException {
        Path first = RunFiles.closedLoop(Files.createDirectory(dir.resolve("runs")), "c1", 1, 300, 20, 10);
        Path second = RunFiles.closedLoop(dir, "c4", 4, 900, 70, 10);
        CommandLine cli = new CommandLine(new BenchReportCommand());
        StringWriter printed = new StringWriter();
        cli.setOut(new PrintWriter(printed));

        int exitCode = cli.execute(first.toString(), second.toString());

        assertThat(exitCode).isZero();
        Path report = dir.resolve("runs/report");
        assertThat(printed.toString()).contains("wrote " + report.resolve("report.md"));
        assertThat(report.resolve("latency-cdf.png")).exists();
        assertThat(report.resolve("throughput-vs-rate.png")).exists();
    }
}
