package io.kvserve.cli.benchserving.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServingRunReaderTest {

    @TempDir
    Path dir;

    /** Every field, the optional ones of issue 9 included, as the generator writes them. */
    private static final String FULL = """
            {
              "config": {"url": "http://localhost:8000/", "api": "chat", "model": "tiny", "mode": "open_loop",
                         "concurrency": 0, "request_rate": "12.5", "max_concurrency": 8, "num_requests": 3,
                         "duration_s": null, "num_warmup": 1, "workload": "shared-prefix", "input_len": 256, "output_len": 32,
                         "seed": 7, "burst_size": 4, "workload_params": {"tenants": 2, "prefix_len": 512, "nested": {"a": 1}},
                         "arrival": "poisson"},
              "summary": {
                "completed": 2, "failed": 1, "duration_s": 1.5, "total_input_tokens": 512, "total_output_tokens": 64,
                "request_throughput": 1.3333, "output_throughput": 42.67, "total_token_throughput": 384.0,
                "mean_ttft_ms": 15.0, "median_ttft_ms": 15.0, "std_ttft_ms": 5.0, "p90_ttft_ms": 19.0, "p99_ttft_ms": 19.9,
                "min_ttft_ms": 10.0, "max_ttft_ms": 20.0,
                "mean_tpot_ms": 2.0, "median_tpot_ms": 2.0, "std_tpot_ms": 0.0, "p90_tpot_ms": 2.0, "p99_tpot_ms": 2.0,
                "min_tpot_ms": 2.0, "max_tpot_ms": 2.0,
                "mean_itl_ms": 2.0, "median_itl_ms": 2.0, "std_itl_ms": 0.0, "p90_itl_ms": 2.0, "p99_itl_ms": 2.0,
                "min_itl_ms": 2.0, "max_itl_ms": 2.0,
                "mean_e2el_ms": 77.0, "median_e2el_ms": 77.0, "std_e2el_ms": 3.0, "p90_e2el_ms": 79.4, "p99_e2el_ms": 79.94,
                "min_e2el_ms": 74.0, "max_e2el_ms": 80.0,
                "errors": {"timeout": 1},
                "goodput": {"slo_ttft_ms": 200, "slo_tpot_ms": null, "requests_per_s": 0.6667, "fraction": 0.5},
                "fluidity_index": {"mean": 0.9, "p50": 1.0, "p99": 0.5},
                "prefix_cache_hit_rate": 0.25,
                "tenants": {"zeta": {"completed": 1, "failed": 1, "median_ttft_ms": 20.0, "p99_ttft_ms": 20.0,
                                     "median_tpot_ms": 2.0, "prefix_cache_hit_rate": null},
                            "alpha": {"completed": 1, "failed": 0, "median_ttft_ms": 10.0, "p99_ttft_ms": 10.0,
                                      "median_tpot_ms": 2.0, "prefix_cache_hit_rate": 0.5}},
                "prefix_cache_hit_rate_source": "usage",
                "sender_lag": {"max_ms": 3.5, "planned_span_ms": 240.0, "fell_behind": true}
              },
              "requests": [
                {"index": 0, "warmup": true, "send_ms": 0.0, "ttft_ms": 30.0, "itl_ms": [2.0], "tpot_ms": 2.0, "e2e_ms": 90.0,
                 "prompt_tokens": 256, "output_tokens": 32, "usage_reported": true, "error": null, "tenant": "alpha", "cached_tokens": 0},
                {"index": 1, "warmup": false, "send_ms": 80.0, "ttft_ms": 10.0, "itl_ms": [2.0], "tpot_ms": 2.0, "e2e_ms": 74.0,
                 "prompt_tokens": 256, "output_tokens": 32, "usage_reported": true, "error": null, "tenant": "alpha", "cached_tokens": 128},
                {"index": 2, "warmup": false, "send_ms": 160.0, "ttft_ms": null, "itl_ms": [], "tpot_ms": null, "e2e_ms": 300.0,
                 "prompt_tokens": 0, "output_tokens": 0, "usage_reported": false,
                 "error": {"key": "timeout", "kind": "timeout", "status": 0, "type": "HttpTimeoutException", "message": "timed out"},
                 "tenant": "zeta", "cached_tokens": null}
              ]
            }
            """;

    @Test
    void read_fullFile_givesEveryFieldExactly() throws IOException {
        Path file = dir.resolve("sweep-r12.json");
        Files.writeString(file, FULL);

        ServingRun run = ServingRunReader.read(file);

        assertThat(run.label()).isEqualTo("sweep-r12");
        assertThat(run.file()).isEqualTo(file);
        ServingRun.Config c = run.config();
        assertThat(c.mode()).isEqualTo(ServingRun.Mode.OPEN_LOOP);
        assertThat(c.requestRate()).isEqualTo(12.5);
        assertThat(c.maxConcurrency()).isEqualTo(8);
        assertThat(c.model()).isEqualTo("tiny");
        assertThat(c.workload()).isEqualTo("shared-prefix");
        assertThat(c.workloadParams()).containsExactly(Map.entry("tenants", "2"), Map.entry("prefix_len", "512"),
                Map.entry("nested", "{\"a\":1}"));
        assertThat(c.arrival()).contains("poisson");
        assertThat(c.numBurstRequests()).isEqualTo(4);
        assertThat(c.inputLen()).isEqualTo(256);
        assertThat(c.outputLen()).isEqualTo(32);
        assertThat(c.numRequests()).isEqualTo(3);

        ServingRun.Summary s = run.summary();
        assertThat(s.numCompleted()).isEqualTo(2);
        assertThat(s.numFailed()).isEqualTo(1);
        assertThat(s.durationSeconds()).isEqualTo(1.5);
        assertThat(s.numInputTokens()).isEqualTo(512);
        assertThat(s.numOutputTokens()).isEqualTo(64);
        assertThat(s.requestThroughput()).isEqualTo(1.3333);
        assertThat(s.outputThroughput()).isEqualTo(42.67);
        assertThat(s.totalTokenThroughput()).isEqualTo(384.0);
        assertThat(s.ttftMs()).isEqualTo(new ServingRun.Latency(15.0, 15.0, 5.0, 19.0, 19.9, 10.0, 20.0));
        assertThat(s.e2eMs()).isEqualTo(new ServingRun.Latency(77.0, 77.0, 3.0, 79.4, 79.94, 74.0, 80.0));
        assertThat(s.errors()).containsExactly(Map.entry("timeout", 1));
        assertThat(s.goodput()).contains(new ServingRun.Goodput(200, Double.NaN, 0.6667, 0.5));
        assertThat(s.fluidityIndex()).contains(new ServingRun.Fluidity(0.9, 1.0, 0.5));
        assertThat(s.prefixCacheHitRate()).isEqualTo(0.25);
        assertThat(s.tenants().keySet()).containsExactly("alpha", "zeta");
        assertThat(s.tenants().get("zeta")).isEqualTo(new ServingRun.Tenant(1, 1, 20.0, 20.0, 2.0, Double.NaN));
        assertThat(s.prefixCacheHitRateSource()).contains("usage");
        assertThat(s.senderLag()).contains(new ServingRun.SenderLag(3.5, 240.0, true));

        assertThat(run.requests()).hasSize(3);
        assertThat(run.measured()).extracting(ServingRun.Request::index).containsExactly(1, 2);
        assertThat(run.requests().get(1)).isEqualTo(new ServingRun.Request(1, false, 80.0, 10.0, 2.0, 74.0, 256, 32,
                java.util.Optional.empty(), java.util.Optional.of("alpha"), 128));
        ServingRun.Request failed = run.requests().get(2);
        assertThat(failed.succeeded()).isFalse();
        assertThat(failed.errorKey()).contains("timeout");
        assertThat(failed.ttftMs()).isNaN();
        assertThat(failed.tpotMs()).isNaN();
        assertThat(failed.numCachedTokens()).isEqualTo(-1);
    }

    /** A file bench-serving wrote (branch bench-gen, shared-prefix at 20 req/s on a tiny model), requests cut to two. */
    @Test
    void read_fileTheGeneratorWrote_givesItsFigures() throws Exception {
        Path file = Path.of(getClass().getResource("shared-prefix-r20.json").toURI());

        ServingRun run = ServingRunReader.read(file);

        assertThat(run.label()).isEqualTo("shared-prefix-r20");
        assertThat(run.config().mode()).isEqualTo(ServingRun.Mode.OPEN_LOOP);
        assertThat(run.config().requestRate()).isEqualTo(20.0);
        assertThat(run.config().arrival()).contains("poisson");
        assertThat(run.config().workloadParams()).containsEntry("tenants", "[\"tenant-1\",\"tenant-2\",\"tenant-3\"]")
                .containsEntry("shared_prefix_len", "64");
        assertThat(run.summary().numCompleted()).isEqualTo(60);
        assertThat(run.summary().ttftMs().p99()).isEqualTo(86.34314983999997);
        assertThat(run.summary().goodput()).contains(new ServingRun.Goodput(50.0, 5.0, 17.938752488744036, 0.9333333333333333));
        assertThat(run.summary().fluidityIndex()).contains(new ServingRun.Fluidity(0.975959595959596, 1.0, 0.6356060606060606));
        assertThat(run.summary().prefixCacheHitRate()).isEqualTo(0.9873522703711383);
        assertThat(run.summary().prefixCacheHitRateSource()).contains("prometheus");
        assertThat(run.summary().senderLag()).contains(new ServingRun.SenderLag(36.256491, 3087.23494, false));
        assertThat(run.summary().tenants()).containsOnlyKeys("tenant-1", "tenant-2", "tenant-3");
        assertThat(run.summary().tenants().get("tenant-1"))
                .isEqualTo(new ServingRun.Tenant(18, 0, 17.772213999999998, 90.06780505999998, 0.8890959666666667, 0.9895148391682957));
        assertThat(run.requests().getFirst()).isEqualTo(new ServingRun.Request(0, false, 151.91541, 37.259766, 2.9168956666666666,
                81.013201, 630, 16, java.util.Optional.empty(), java.util.Optional.of("tenant-1"), 624));
    }

    @Test
    void read_fileWithoutOptionalFields_givesEmptyAndNaN() throws IOException {
        Path file = RunFiles.closedLoop(dir, "old", 4, 500.0, 99.0, 10.0, 20.0);

        ServingRun run = ServingRunReader.read(file);

        assertThat(run.config().mode()).isEqualTo(ServingRun.Mode.CLOSED_LOOP);
        assertThat(run.config().concurrency()).isEqualTo(4);
        assertThat(run.config().requestRate()).isNaN();
        assertThat(run.config().arrival()).isEmpty();
        assertThat(run.config().workloadParams()).isEmpty();
        assertThat(run.summary().goodput()).isEmpty();
        assertThat(run.summary().fluidityIndex()).isEmpty();
        assertThat(run.summary().prefixCacheHitRate()).isNaN();
        assertThat(run.summary().tenants()).isEmpty();
        assertThat(run.summary().senderLag()).isEmpty();
        assertThat(run.summary().prefixCacheHitRateSource()).isEmpty();
        assertThat(run.config().numBurstRequests()).isZero();
        assertThat(run.summary().ttftMs().p99()).isEqualTo(99.0);
        assertThat(run.requests()).allSatisfy(r -> {
            assertThat(r.tenant()).isEmpty();
            assertThat(r.numCachedTokens()).isEqualTo(-1);
        });
    }

    @Test
    void read_summaryAndRequestsOnly_readsWithDefaults() throws IOException {
        Path file = dir.resolve("bare.json");
        Files.writeString(file, "{\"summary\": {\"completed\": 0}, \"requests\": []}");

        ServingRun run = ServingRunReader.read(file);

        assertThat(run.config().mode()).isEqualTo(ServingRun.Mode.CLOSED_LOOP);
        assertThat(run.config().workload()).isEmpty();
        assertThat(run.summary().ttftMs().p99()).isNaN();
        assertThat(run.requests()).isEmpty();
    }

    @Test
    void read_infiniteRate_givesPositiveInfinity() throws IOException {
        Path file = RunFiles.openLoop(dir, "burst", "inf", 100.0, 50.0, 1.0, 1.0, 5.0);

        assertThat(ServingRunReader.read(file).config().requestRate()).isEqualTo(Double.POSITIVE_INFINITY);
    }

    @Test
    void read_notJson_failsNamingTheFile() throws IOException {
        Path file = dir.resolve("notes.json");
        Files.writeString(file, "TTFT was fine");

        assertThatThrownBy(() -> ServingRunReader.read(file))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith(file + ": not a bench-serving result file (not JSON");
    }

    @Test
    void read_noSummary_failsNamingTheFileAndTheField() throws IOException {
        Path file = dir.resolve("config-only.json");
        Files.writeString(file, "{\"config\": {}, \"requests\": []}");

        assertThatThrownBy(() -> ServingRunReader.read(file))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith(file + ": not a bench-serving result file (no \"summary\" object");
    }

    @Test
    void read_noRequests_failsNamingTheFileAndTheField() throws IOException {
        Path file = dir.resolve("summary-only.json");
        Files.writeString(file, "{\"summary\": {}}");

        assertThatThrownBy(() -> ServingRunReader.read(file))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith(file + ": not a bench-serving result file (no \"requests\" array");
    }

    @Test
    void read_jsonArray_failsNamingTheFile() throws IOException {
        Path file = dir.resolve("array.json");
        Files.writeString(file, "[1, 2]");

        assertThatThrownBy(() -> ServingRunReader.read(file)).hasMessage(file + ": not a bench-serving result file (not a JSON object)");
    }

    @Test
    void read_missingFile_saysSo() {
        Path file = dir.resolve("absent.json");

        assertThatThrownBy(() -> ServingRunReader.read(file)).hasMessage(file + ": no such file");
    }
}
