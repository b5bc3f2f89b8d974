package io.kvserve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class BenchCommandTest {

    @TempDir
    static Path dir;

    static Path tiny;

    @BeforeAll
    static void generateModel() {
        tiny = dir.resolve("tiny.gguf");
        CliRun r = CliRun.of("model", "generate", "--preset", "tiny", "--type", "q4_0", "--seed", "3", "-o", tiny.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    @Test
    void bench_json_reportsEveryTestWithOneSamplePerRepetition() {
        CliRun r = CliRun.of("bench", "-m", tiny.toString(), "-t", "1", "-p", "40", "-n", "6", "-r", "2",
                "--batch", "1,3", "--batch-prompt", "5", "--ubatch", "16", "--kv-type", "f32", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode json = JsonMapper.builder().build().readTree(r.out());
        List<String> tests = new ArrayList<>();
        for (JsonNode result : json.get("results")) {
            tests.add(result.get("test").asString());
            assertThat(result.get("samples_ts").size()).isEqualTo(2);
            assertThat(result.get("avg_ts").asDouble()).isPositive();
            assertThat(result.get("stddev_ts").asDouble()).isNotNegative();
        }
        assertThat(tests).containsExactly("pp40", "tg6", "tg6 x1", "tg6 x3");
        assertThat(json.get("results").get(3).get("n_seqs").asInt()).isEqualTo(3);
        assertThat(json.get("kv_type").asString()).isEqualTo("f32");
        assertThat(json.get("weight_bytes_per_token").asLong()).isPositive();
        assertThat(json.get("max_rss_bytes").asLong()).isPositive();
        assertThat(json.has("memory_read_gbps")).isFalse();
    }

    @Test
    void bench_table_namesTestsAndRss() {
        CliRun r = CliRun.of("bench", "-m", tiny.toString(), "-t", "2", "-p", "8", "-n", "4", "-r", "1", "--batch", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("| pp8 ").contains("| tg4 ").doesNotContain(" x1").contains("max RSS");
    }

    @Test
    void bench_badOptions_failWithTheOptionNamed() {
        assertThat(CliRun.of("bench", "-m", tiny.toString(), "-r", "0").err()).contains("--repetitions 0");
        assertThat(CliRun.of("bench", "-m", tiny.toString(), "--batch", "-2").err()).contains("--batch -2");
        assertThat(CliRun.of("bench", "-m", tiny.toString(), "--kv-type", "q8").err()).contains("--kv-type q8");
        assertThat(CliRun.of("bench", "-m", tiny.toString(), "-p", "100000", "-r", "1").err()).contains("context");
    }
}
