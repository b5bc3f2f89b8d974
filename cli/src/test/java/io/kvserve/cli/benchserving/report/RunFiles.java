package io.kvserve.cli.benchserving.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Small hand-made bench-serving result files for the report's tests. */
final class RunFiles {

    private RunFiles() {
    }

    /** A file in the current generator's layout, without the optional fields issue 9 adds. */
    static Path closedLoop(Path dir, String name, int users, double outputTokensPerSecond, double p99TtftMs, double... ttftMs)
            throws IOException {
        return write(dir, name, """
                "mode": "closed_loop", "concurrency": %d, "num_requests": %d, "workload": "random", "input_len": 128, "output_len": 16
                """.formatted(users, ttftMs.length), outputTokensPerSecond, p99TtftMs, "", ttftMs);
    }

    /** An open-loop file with the optional goodput object. */
    static Path openLoop(Path dir, String name, String rate, double outputTokensPerSecond, double p99TtftMs,
                         double goodputPerSecond, double goodputFraction, double... ttftMs) throws IOException {
        String goodput = String.format(Locale.ROOT,
                "\"goodput\": {\"slo_ttft_ms\": 200, \"slo_tpot_ms\": null, \"requests_per_s\": %s, \"fraction\": %s},",
                goodputPerSecond, goodputFraction);
        return write(dir, name, """
                "mode": "open_loop", "concurrency": 0, "request_rate": "%s", "max_concurrency": 0, "num_requests": %d, "workload": "random", "arrival": "poisson"
                """.formatted(rate, ttftMs.length), outputTokensPerSecond, p99TtftMs, goodput, ttftMs);
    }

    private static Path write(Path dir, String name, String config, double outputTokensPerSecond, double p99TtftMs,
                              String extraSummary, double[] ttftMs) throws IOException {
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < ttftMs.length; i++) {
            requests.append(i == 0 ? "" : ",\n").append(String.format(Locale.ROOT,
                    "{\"index\": %d, \"warmup\": false, \"send_ms\": %d, \"ttft_ms\": %s, \"itl_ms\": [1.0], \"tpot_ms\": 1.0, "
                            + "\"e2e_ms\": %s, \"prompt_tokens\": 128, \"output_tokens\": 16, \"usage_reported\": true, \"error\": null}",
                    i, 10 * i, ttftMs[i], 10 * ttftMs[i]));
        }
        String json = String.format(Locale.ROOT, """
                {
                  "config": {%s},
                  "summary": {
                    "completed": %d, "failed": 0, "duration_s": 2.0, "total_input_tokens": 1000, "total_output_tokens": 500,
                    "request_throughput": %s, "output_throughput": %s, "total_token_throughput": 750.0,
                    "mean_ttft_ms": 50.0, "median_ttft_ms": 40.0, "std_ttft_ms": 5.0, "p90_ttft_ms": 80.0, "p99_ttft_ms": %s,
                    "min_ttft_ms": 10.0, "max_ttft_ms": 120.0,
                    "mean_tpot_ms": 2.0, "median_tpot_ms": 2.0, "std_tpot_ms": 0.1, "p90_tpot_ms": 3.0, "p99_tpot_ms": 4.0,
                    "min_tpot_ms": 1.0, "max_tpot_ms": 5.0,
                    "mean_itl_ms": 2.0, "median_itl_ms": 1.5, "std_itl_ms": 0.1, "p90_itl_ms": 3.0, "p99_itl_ms": 6.0,
                    "min_itl_ms": 0.0, "max_itl_ms": 9.0,
                    "mean_e2el_ms": 90.0, "median_e2el_ms": 85.0, "std_e2el_ms": 9.0, "p90_e2el_ms": 150.0, "p99_e2el_ms": 190.0,
                    "min_e2el_ms": 30.0, "max_e2el_ms": 200.0,
                    %s
                    "errors": {}
                  },
                  "requests": [%s]
                }
                """, config.strip(), ttftMs.length, outputTokensPerSecond / 16, outputTokensPerSecond, p99TtftMs, extraSummary,
                requests);
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, json);
        return file;
    }
}
