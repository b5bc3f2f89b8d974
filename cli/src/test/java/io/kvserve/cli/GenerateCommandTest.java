package io.kvserve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class GenerateCommandTest {

    @TempDir
    static Path dir;

    static Path tiny;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @BeforeAll
    static void generateModel() {
        tiny = dir.resolve("tiny.gguf");
        CliRun r = run("model", "generate", "--preset", "tiny", "--type", "q8_0", "--seed", "3", "-o", tiny.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    @Test
    void generate_json_printsIdsTextAndTimings() {
        CliRun r = run("generate", "-m", tiny.toString(), "--prompt", "hello world", "--max-tokens", "5",
                "--temperature", "0", "--threads", "1", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode json = JsonMapper.builder().build().readTree(r.out());
        assertThat(json.get("prompt_ids").isArray()).isTrue();
        assertThat(json.get("prompt_ids").size()).isPositive();
        assertThat(json.get("output_ids").size()).isBetween(1, 5);
        assertThat(json.get("text").isString()).isTrue();
        JsonNode timings = json.get("timings");
        assertThat(timings.get("prompt_ms").asDouble()).isPositive();
        assertThat(timings.has("decode_ms")).isTrue();
        assertThat(timings.has("prompt_tokens_per_s")).isTrue();
        assertThat(timings.has("decode_tokens_per_s")).isTrue();
    }

    @Test
    void generate_promptText_isEncodedWithTheModelsBos() throws Exception {
        CliRun r = run("generate", "-m", tiny.toString(), "--prompt", "hello world", "--max-tokens", "1", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        int[] expected;
        int bos;
        try (io.kvserve.common.model.ModelFile model = io.kvserve.common.model.ModelFile.open(tiny)) {
            var tokenizer = model.tokenizer().tokenizer();
            expected = tokenizer.encode("hello world", io.kvserve.common.tokenizer.Tokenizer.EncodeOptions.PROMPT);
            bos = tokenizer.bosId().orElseThrow();
        }
        JsonNode ids = JsonMapper.builder().build().readTree(r.out()).get("prompt_ids");
        assertThat(ids.get(0).asInt()).isEqualTo(bos);
        assertThat(ids.toString()).isEqualTo(java.util.Arrays.toString(expected).replace(" ", ""));
    }

    @Test
    void generate_sameInputTwice_isDeterministic() {
        String[] args = {"generate", "-m", tiny.toString(), "--prompt-ids", "1,5,9,100", "--max-tokens", "6", "--json"};
        JsonMapper mapper = JsonMapper.builder().build();
        JsonNode a = mapper.readTree(run(args).out());
        JsonNode b = mapper.readTree(run(args).out());
        assertThat(a.get("prompt_ids").toString()).isEqualTo("[1,5,9,100]");
        assertThat(a.get("output_ids")).isEqualTo(b.get("output_ids"));
    }

    @Test
    void generate_dumpLogits_writesOneRowPerPromptTokenAndPerGeneratedToken() throws Exception {
        Path dump = dir.resolve("logits.f32");
        CliRun r = run("generate", "-m", tiny.toString(), "--prompt-ids", "1,5,9,100,305", "--max-tokens", "4",
                "--json", "--dump-logits", dump.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        int numGenerated = JsonMapper.builder().build().readTree(r.out()).get("output_ids").size();
        assertThat(Files.size(dump)).isEqualTo((5L + numGenerated) * 1024 * Float.BYTES);
    }

    @Test
    void generate_greedyThroughEngine_equalsTheDirectModelPath() {
        JsonMapper mapper = JsonMapper.builder().build();
        String[] common = {"generate", "-m", tiny.toString(), "--prompt-ids", "1,5,9,100,305,310,512", "--max-tokens", "8",
                "--ignore-eos", "--json"};
        CliRun engine = run(common);
        assertThat(engine.exitCode()).as(engine.err()).isZero();
        CliRun direct = run(concat(common, "--dump-logits", dir.resolve("direct.f32").toString()));
        assertThat(direct.exitCode()).as(direct.err()).isZero();
        JsonNode viaEngine = mapper.readTree(engine.out());
        assertThat(viaEngine.get("output_ids")).isEqualTo(mapper.readTree(direct.out()).get("output_ids"));
        assertThat(viaEngine.get("finish_reason").asString()).isEqualTo("length");
    }

    @Test
    void generate_seededSampling_isReproducibleAndSeedDependent() {
        JsonMapper mapper = JsonMapper.builder().build();
        String[] args = {"generate", "-m", tiny.toString(), "--prompt-ids", "1,5,9", "--max-tokens", "12", "--ignore-eos",
                "--temperature", "1.5", "--top-p", "0.95", "--json", "--seed"};
        JsonNode a = mapper.readTree(run(concat(args, "7")).out()).get("output_ids");
        JsonNode b = mapper.readTree(run(concat(args, "7")).out()).get("output_ids");
        JsonNode c = mapper.readTree(run(concat(args, "8")).out()).get("output_ids");
        assertThat(a.size()).isEqualTo(12);
        assertThat(b).isEqualTo(a);
        assertThat(c).isNotEqualTo(a); // 12 draws at temperature 1.5 over 1024 tokens: equal by chance ~never
    }

    @Test
    void generate_badSamplingValues_areRejectedWithTheParameter() {
        CliRun r = run("generate", "-m", tiny.toString(), "--prompt-ids", "1,2", "--temperature", "0.7", "--top-p", "0");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("top_p");
        CliRun dump = run("generate", "-m", tiny.toString(), "--prompt-ids", "1,2", "--temperature", "0.7",
                "--dump-logits", dir.resolve("x.f32").toString());
        assertThat(dump.exitCode()).isEqualTo(1);
        assertThat(dump.err()).contains("--dump-logits runs greedy decoding only");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void generate_idOutOfRange_isRejected() {
        CliRun r = run("generate", "-m", tiny.toString(), "--prompt-ids", "1,4096");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("4096").contains("0..1023");
    }
}
