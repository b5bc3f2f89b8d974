package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceWorkloadTest {

    @TempDir
    Path dir;

    @Test
    void read_goodAndMalformedLines_keepsTheGoodOnes_andNamesFileAndLineOfTheRest() throws IOException {
        Path file = dir.resolve("t.jsonl");
        Files.writeString(file, String.join("\n",
                "# a comment",
                "{\"timestamp_ms\": 500, \"tenant\": \"acme\", \"prompt\": \"a b c\", \"max_tokens\": 7}",
                "",
                "not json",
                "{\"prompt\": \"no time\"}",
                "{\"timestamp_ms\": 600, \"prompt\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"y\"}]}",
                "{\"timestamp_ms\": 700, \"prompt\": \"x\", \"max_tokens\": 0}",
                "{\"timestamp_ms\": 800, \"messages\": [{\"role\": \"user\"}]}",
                "{\"timestamp_ms\": 2500, \"messages\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": \"u v\"}]}"));
        TraceWorkload trace = TraceWorkload.read(file, 16);
        assertThat(trace.size()).isEqualTo(2);
        assertThat(trace.skippedLines()).hasSize(5);
        assertThat(trace.skippedLines().get(0)).startsWith(file + ":4: not JSON");
        assertThat(trace.skippedLines().get(1)).startsWith(file + ":5: \"timestamp_ms\"");
        assertThat(trace.skippedLines().get(2)).startsWith(file + ":6: give exactly one of");
        assertThat(trace.skippedLines().get(3)).startsWith(file + ":7: \"max_tokens\"");
        assertThat(trace.skippedLines().get(4)).startsWith(file + ":8: each message");
        assertThat(trace.entries()).extracting(TraceWorkload.Entry::lineNumber).containsExactly(2, 9);

        BenchRequest first = trace.request(0);
        assertThat(first.prompt()).isEqualTo("a b c");
        assertThat(first.messages()).isNull();
        assertThat(first.tenant()).isEqualTo("acme");
        assertThat(first.maxTokens()).isEqualTo(7);
        BenchRequest second = trace.request(1);
        assertThat(second.messages()).extracting(BenchRequest.ChatMessage::content).containsExactly("s", "u v");
        assertThat(second.tenant()).isNull();
        assertThat(second.maxTokens()).isEqualTo(16);
        assertThat(trace.secondsAfter(0, 1)).isEqualTo(2.0);
        assertThat(trace.tenants()).containsExactly("acme");
        assertThat(trace.params()).containsEntry("num_skipped_lines", 5);
    }

    @Test
    void read_noUsableLine_failsNamingTheFirstProblem() throws IOException {
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, "{\"timestamp_ms\": -1, \"prompt\": \"x\"}\n");
        assertThatThrownBy(() -> TraceWorkload.read(file, 16)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no usable line").hasMessageContaining(file + ":1:");
    }
}
