package io.kvserve.common.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.tokenizer.SyntheticVocab.Family;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SyntheticVocabTest {

    @ParameterizedTest
    @EnumSource(Family.class)
    void generate_anyFamily_hasExactSizeAndRealSpecialIds(Family family) {
        long startNanos = System.nanoTime();
        SyntheticVocab vocab = SyntheticVocab.generate(family, 42);
        long elapsedMillis = (System.nanoTime() - startNanos) / 1_000_000;
        GgufTokenizerData gguf = vocab.toGguf();
        switch (family) {
            case LLAMA3 -> {
                assertThat(vocab.tokens()).hasSize(128_256);
                assertThat(vocab.tokens().get(128_000)).isEqualTo("<|begin_of_text|>");
                assertThat(vocab.tokens().get(128_001)).isEqualTo("<|end_of_text|>");
                assertThat(vocab.tokens().get(128_006)).isEqualTo("<|start_header_id|>");
                assertThat(vocab.tokens().get(128_007)).isEqualTo("<|end_header_id|>");
                assertThat(vocab.tokens().get(128_009)).isEqualTo("<|eot_id|>");
                assertThat(vocab.tokens().get(128_255)).isEqualTo("<|reserved_special_token_247|>");
                assertThat(gguf.tokens()).hasSize(128_256);
            }
            case QWEN2 -> {
                assertThat(vocab.tokens()).hasSize(151_665);
                assertThat(vocab.tokens().get(151_643)).isEqualTo("<|endoftext|>");
                assertThat(vocab.tokens().get(151_644)).isEqualTo("<|im_start|>");
                assertThat(vocab.tokens().get(151_645)).isEqualTo("<|im_end|>");
                assertThat(gguf.tokens()).hasSize(151_936);
                assertThat(gguf.tokens().get(151_935)).isEqualTo("[PAD151935]");
                assertThat(gguf.tokenTypes()[151_935]).isEqualTo(TokenType.UNUSED.ggufCode());
                assertThat(gguf.tokenTypes()[151_657]).isEqualTo(TokenType.USER_DEFINED.ggufCode());
            }
            case SMOLLM2 -> {
                assertThat(vocab.tokens()).hasSize(49_152);
                assertThat(vocab.tokens().subList(0, 3)).containsExactly("<|endoftext|>", "<|im_start|>", "<|im_end|>");
            }
            case TINY -> assertThat(vocab.tokens()).hasSize(1_024);
        }
        assertThat(new HashSet<>(vocab.tokens())).hasSize(vocab.tokens().size());
        assertThat(elapsedMillis).as("generation time").isLessThan(10_000);
    }

    @Test
    void generate_sameSeed_sameVocabulary() {
        assertThat(SyntheticVocab.generate(Family.SMOLLM2, 7).tokens())
                .isEqualTo(SyntheticVocab.generate(Family.SMOLLM2, 7).tokens());
    }

    @Test
    void generate_everyMerge_joinsExistingTokensIntoAToken() {
        SyntheticVocab vocab = SyntheticVocab.generate(Family.SMOLLM2, 1);
        Set<String> tokens = new HashSet<>(vocab.tokens());
        for (String merge : vocab.toGguf().merges()) {
            String[] pair = ByteLevelBpeTokenizer.parseMerge(merge);
            assertThat(tokens.contains(pair[0]) && tokens.contains(pair[1]) && tokens.contains(pair[0] + pair[1]))
                    .as("merge %s", merge).isTrue();
        }
    }

    @Test
    void encode_englishText_usesMultiByteTokens() {
        Tokenizer tokenizer = GgufTokenizerLoader.load(SyntheticVocab.generate(Family.LLAMA3, 42).toGguf()).tokenizer();
        String text = "The model would like to see the other people in the world.";
        int[] ids = tokenizer.encode(text);
        assertThat(ids.length).isLessThan(text.length() / 3);
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
    }

    @Test
    void writeHuggingFace_thenLoad_encodesLikeGguf(@TempDir Path dir) {
        SyntheticVocab vocab = SyntheticVocab.generate(Family.QWEN2, 3);
        vocab.writeHuggingFace(dir);
        Tokenizer fromHf = HfTokenizerLoader.load(dir.resolve("tokenizer.json"), dir.resolve("tokenizer_config.json")).tokenizer();
        Tokenizer fromGguf = GgufTokenizerLoader.load(vocab.toGguf()).tokenizer();
        String text = "Hello <|im_start|>user\nThe 12345 cafés, 東京 and code(x) == 3;<|im_end|>";
        assertThat(fromHf.encode(text)).containsExactly(fromGguf.encode(text));
        assertThat(fromHf.encodeWithSpecials(text)).containsExactly(fromGguf.encodeWithSpecials(text));
        assertThat(fromHf.eosId()).isEqualTo(fromGguf.eosId());
    }
}
