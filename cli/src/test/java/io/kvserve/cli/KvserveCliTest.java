package io.kvserve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvserveCliTest {

    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void generateThenInspect_tinyGguf_printsItsShapeAndTokenizer() {
        Path file = dir.resolve("tiny.gguf");
        CliRun generated = run("model", "generate", "--preset", "tiny", "--type", "q8_0", "--seed", "3", "-o", file.toString());
        assertThat(generated.exitCode()).as(generated.err()).isZero();
        assertThat(Files.isRegularFile(file)).isTrue();

        CliRun inspected = run("model", "inspect", file.toString());
        assertThat(inspected.exitCode()).as(inspected.err()).isZero();
        assertThat(inspected.out())
                .contains("GGUF v3, llama")
                .contains("dim 64, ffn 192, layers 2, heads 4 (kv 2, head_dim 16), vocab 1024")
                .contains("Q8_0=16")
                .contains("chat template yes");
    }

    @Test
    void tokenize_idsThenDecode_givesTheTextBack() {
        Path file = dir.resolve("tiny.gguf");
        assertThat(run("model", "generate", "--preset", "tiny", "-o", file.toString()).exitCode()).isZero();
        String text = "Tokenize me, twice: 2024 ✓";

        CliRun ids = run("tokenize", "-m", file.toString(), "--text", text, "--ids");
        assertThat(ids.exitCode()).as(ids.err()).isZero();
        assertThat(ids.out().trim()).matches("\\d+(,\\d+)+");

        CliRun decoded = run("tokenize", "-m", file.toString(), "--decode", ids.out().trim());
        assertThat(decoded.exitCode()).as(decoded.err()).isZero();
        assertThat(decoded.out()).isEqualTo(text + System.lineSeparator());
    }

    @Test
    void generate_safetensors_writesAnHfDirectory() {
        Path out = dir.resolve("hf");
        CliRun generated = run("model", "generate", "--preset", "tiny-qwen2", "--format", "safetensors", "--type", "bf16", "-o", out.toString());
        assertThat(generated.exitCode()).as(generated.err()).isZero();
        assertThat(out.resolve("config.json")).exists();
        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(out.resolve("tokenizer.json")).exists();
        assertThat(run("model", "inspect", out.toString()).out()).contains("safetensors").contains("qwen2").contains("BF16=");
    }

    @Test
    void inspect_corruptFile_failsWithOneLineNamingTheFile() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1, 2, 3});
        CliRun r = run("model", "inspect", bad.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("kvserve: inspect: ").contains(bad.toString()).doesNotContain("\tat ");
    }

    @Test
    void generate_badTypeOrPreset_explainsTheChoices() {
        CliRun badType = run("model", "generate", "--preset", "tiny", "--type", "q3_k", "-o", dir.resolve("x.gguf").toString());
        assertThat(badType.exitCode()).isEqualTo(1);
        assertThat(badType.err()).contains("q3_k").contains("q4_0");
        CliRun badPreset = run("model", "generate", "--preset", "gpt-9");
        assertThat(badPreset.err()).contains("gpt-9").contains("smollm2-135m");
    }

    @Test
    void tokenize_idOutOfRange_isRejected() {
        Path file = dir.resolve("tiny.gguf");
        run("model", "generate", "--preset", "tiny", "-o", file.toString());
        CliRun r = run("tokenize", "-m", file.toString(), "--decode", "5,4096");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("4096").contains("0..1023");
    }
}
