package io.kvserve.cli.benchserving.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kvserve bench-report}: the report of one bench-serving run, or several side by side. */
@Command(name = "bench-report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Report bench-serving --json result files: report.md (throughput, TTFT,",
                "TPOT, ITL and E2E percentiles, goodput, fluidity, hit rate, errors; per",
                "tenant when runs have tenants), latency-cdf.png (TTFT and E2E CDFs) and,",
                "when runs differ in offered load, throughput-vs-rate.png. Several files",
                "are compared side by side: closed loop before open loop, each in order of",
                "users or rate, equal loads in the order given."})
public final class BenchReportCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "RUN.json", description = "bench-serving --json result files.")
    List<Path> runFiles;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write (default: the first file's folder + /report).")
    Path outDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path dir = outDir != null ? outDir : defaultOutDir(runFiles.getFirst());
        ServingReports.write(runFiles, dir, spec.commandLine().getOut());
        return 0;
    }

    static Path defaultOutDir(Path firstRun) {
        Path parent = firstRun.toAbsolutePath().getParent();
        return (parent == null ? Path.of(".") : parent).resolve("report");
    }
}
