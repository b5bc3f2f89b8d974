package io.kvserve.cli.benchserving.report;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The output side of {@code bench-serving} (issue 9): from one or more {@code --json} result files, a
 * Markdown report and PNG figures. One file gives the report of one run; several put their runs side
 * by side (compare mode), in order of offered load (see {@link OfferedLoad}).
 */
public final class ServingReports {

    static final String REPORT_MD = "report.md";
    static final String LATENCY_CDF_PNG = "latency-cdf.png";
    static final String THROUGHPUT_PNG = "throughput-vs-rate.png";

    private ServingReports() {
    }

    /**
     * Reads the result files and writes {@code report.md}, {@code latency-cdf.png} (TTFT and E2E CDFs,
     * two panels) and, when two or more runs differ in offered load, {@code throughput-vs-rate.png}
     * into {@code outDir} (created if missing), printing each written path to {@code out}.
     *
     * @throws IOException when a file cannot be read or is not a result file (the message names it),
     *                     or the output cannot be written
     */
    public static void write(List<Path> runJsonFiles, Path outDir, PrintWriter out) throws IOException {
        if (runJsonFiles.isEmpty()) {
            throw new IllegalArgumentException("no result files: give one or more bench-serving --json files");
        }
        System.setProperty("java.awt.headless", "true");
        List<ServingRun> read = new ArrayList<>(runJsonFiles.size());
        for (Path f : runJsonFiles) {
            read.add(ServingRunReader.read(f));
        }
        List<ServingRun> runs = OfferedLoad.inOrder(distinctLabels(read));
        Files.createDirectories(outDir);

        List<String> figures = new ArrayList<>();
        List<Path> written = new ArrayList<>();
        Path cdf = outDir.resolve(LATENCY_CDF_PNG);
        if (ReportCharts.writeLatencyCdf(runs, cdf)) {
            figures.add(LATENCY_CDF_PNG);
            written.add(cdf);
        }
        Path throughput = outDir.resolve(THROUGHPUT_PNG);
        if (ReportCharts.writeThroughputVsLoad(runs, throughput)) {
            figures.add(THROUGHPUT_PNG);
            written.add(throughput);
        }
        Path md = outDir.resolve(REPORT_MD);
        Files.writeString(md, ReportMarkdown.of(runs, command(runJsonFiles), figures));
        written.addFirst(md);
        written.forEach(p -> out.println("wrote " + p));
        out.flush();
    }

    /** Two files with one name ({@code a/run.json}, {@code b/run.json}) are told apart by their folder. */
    static List<ServingRun> distinctLabels(List<ServingRun> runs) {
        Map<String, Integer> counts = new HashMap<>();
        runs.forEach(r -> counts.merge(r.label(), 1, Integer::sum));
        return runs.stream().map(r -> {
            if (counts.get(r.label()) == 1) {
                return r;
            }
            Path parent = r.file().toAbsolutePath().getParent();
            return r.withLabel((parent == null || parent.getFileName() == null ? "" : parent.getFileName() + "/") + r.label());
        }).toList();
    }

    private static String command(List<Path> files) {
        StringBuilder c = new StringBuilder("bin/kvserve bench-report");
        files.forEach(f -> c.append(' ').append(f));
        return c.toString();
    }
}
