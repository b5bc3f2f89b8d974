package io.kvserve.common.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.tokenizer.SyntheticVocab.Family;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TokenizerLoaderTest {

    private static GgufTokenizerData gguf(String model, String pre) {
        return new GgufTokenizerData(model, pre, List.of("a", "b", "ab"), new float[3], null, List.of("a b"),
                OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(), null, null, null,
                null);
    }

    @Test
    void ggufLoad_unknownModel_namesTheValue() {
        assertThatThrownBy(() -> GgufTokenizerLoader.load(gguf("t5", null)))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("tokenizer.ggml.model 't5'");
    }

    @Test
    void ggufLoad_unknownPre_namesTheValue() {
        assertThatThrownBy(() -> GgufTokenizerLoader.load(gguf("gpt2", "deepseek-coder")))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("tokenizer.ggml.pre 'deepseek-coder'");
    }

    @Test
    void forGgufPre_llamaCppNames_mapToTheirExpressions() {
        assertThat(PreTokenizer.forGgufPre("llama-bpe").regexes()).containsExactly(PreTokenizer.LLAMA3_REGEX);
        assertThat(PreTokenizer.forGgufPre("qwen2").regexes()).containsExactly(PreTokenizer.QWEN2_REGEX);
        assertThat(PreTokenizer.forGgufPre("smollm").regexes())
                .containsExactly(PreTokenizer.SINGLE_DIGIT_REGEX, PreTokenizer.GPT2_REGEX);
        assertThat(PreTokenizer.forGgufPre("gpt-2").regexes()).containsExactly(PreTokenizer.GPT2_REGEX);
        assertThat(PreTokenizer.forGgufPre(null).regexes()).hasSize(4);
        // llama.cpp's default splits punctuation runs and digit triples before the GPT-2 expression
        IntList spans = PreTokenizer.forGgufPre("default").split("a,b 12345", 0, 9);
        List<String> pieces = new java.util.ArrayList<>();
        for (int i = 0; i < spans.size(); i += 2) {
            pieces.add("a,b 12345".substring(spans.get(i), spans.get(i + 1)));
        }
        assertThat(pieces).containsExactly("a", ",", "b", " ", "123", "45");
    }

    @Test
    void ggufLoad_mergeOfMissingToken_namesTheMerge() {
        GgufTokenizerData data = new GgufTokenizerData("gpt2", "llama-bpe", List.of("a", "b"), null, null,
                List.of("a b"), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(),
                null, null, null, null);
        assertThatThrownBy(() -> GgufTokenizerLoader.load(data)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("'a b'").hasMessageContaining("'ab'");
    }

    @Test
    void ggufLoad_llama3_addsBosByDefaultAndPadsAreUnused() {
        LoadedTokenizer loaded = GgufTokenizerLoader.load(SyntheticVocab.generate(Family.QWEN2, 1).toGguf());
        Tokenizer tokenizer = loaded.tokenizer();
        assertThat(tokenizer.vocabSize()).isEqualTo(151_936);
        assertThat(tokenizer.tokenType(151_700)).isEqualTo(TokenType.UNUSED);
        assertThat(tokenizer.addBos()).isFalse();
        assertThat(loaded.eosToken()).isEqualTo("<|im_end|>");
        assertThat(loaded.chatTemplate()).isPresent();
        Tokenizer llama = GgufTokenizerLoader.load(SyntheticVocab.generate(Family.TINY, 1).toGguf()).tokenizer();
        assertThat(llama.encodeWithSpecials("hi")[0]).isEqualTo(llama.bosId().getAsInt());
        assertThat(llama.encode("hi")[0]).isNotEqualTo(llama.bosId().getAsInt());
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void hfAndGguf_sameVocabulary_encodeAndDecodeAlike(Family family, @TempDir Path dir) {
        SyntheticVocab vocab = SyntheticVocab.generate(family, 11);
        vocab.writeHuggingFace(dir);
        LoadedTokenizer hf = HfTokenizerLoader.load(dir.resolve("tokenizer.json"), dir.resolve("tokenizer_config.json"));
        LoadedTokenizer gguf = GgufTokenizerLoader.load(vocab.toGguf());
        for (String text : AdversarialStrings.random(300, 17)) {
            if (family == Family.QWEN2 && !java.text.Normalizer.isNormalized(text, java.text.Normalizer.Form.NFC)) {
                continue; // HF's Qwen2 file asks for NFC, llama.cpp's GGUF path does not normalize
            }
            assertThat(hf.tokenizer().encodeWithSpecials(text)).containsExactly(gguf.tokenizer().encodeWithSpecials(text));
        }
        if (family != Family.QWEN2) {
            // Qwen2.5's tokenizer_config has bos_token null while its GGUFs carry bos 151643 (never added)
            assertThat(hf.tokenizer().bosId()).isEqualTo(gguf.tokenizer().bosId());
        }
        assertThat(hf.tokenizer().eosId()).isEqualTo(gguf.tokenizer().eosId());
        assertThat(hf.tokenizer().addBos()).isEqualTo(gguf.tokenizer().addBos());
        assertThat(hf.chatTemplate()).isEqualTo(gguf.chatTemplate());
    }

    @Test
    void hfLoad_unsupportedModelType_namesFieldAndValue(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        assertThatThrownBy(() -> HfTokenizerLoader.load(file, null)).isInstanceOf(TokenizerException.class)
                .hasMessage("unsupported tokenizer.json model.type = WordPiece");
    }

    @Test
    void hfLoad_unsupportedPreTokenizer_namesFieldAndValue(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"pre_tokenizer\": {\"type\": \"Metaspace\"}, \"model\": {\"type\": \"BPE\", "
                + "\"vocab\": {\"a\": 0}, \"merges\": []}}");
        assertThatThrownBy(() -> HfTokenizerLoader.load(file, null)).isInstanceOf(TokenizerException.class)
                .hasMessage("unsupported tokenizer.json pre_tokenizer.type = Metaspace");
    }

    @Test
    void hfLoad_byteFallback_refused(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {}, \"merges\": []}}");
        assertThatThrownBy(() -> HfTokenizerLoader.load(file, null)).hasMessageContaining("model.byte_fallback");
    }

    @Test
    void hfLoad_bothMergeSpellings_giveSameTokenizer(@TempDir Path dir) throws IOException {
        StringBuilder bytes = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.byteToChar(b);
            bytes.append(c == '"' || c == '\\' ? "\"\\" + c : "\"" + c).append("\": ").append(b).append(", ");
        }
        String vocab = "\"vocab\": {" + bytes + "\"ab\": 256}";
        String pre = "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}";
        Path strings = dir.resolve("strings.json");
        Path pairs = dir.resolve("pairs.json");
        Files.writeString(strings, "{" + pre + ", \"model\": {\"type\": \"BPE\", " + vocab + ", \"merges\": [\"a b\"]}}");
        Files.writeString(pairs, "{" + pre + ", \"model\": {\"type\": \"BPE\", " + vocab + ", \"merges\": [[\"a\", \"b\"]]}}");
        assertThat(HfTokenizerLoader.load(strings, null).tokenizer().encode("abab")).containsExactly(256, 256);
        assertThat(HfTokenizerLoader.load(pairs, null).tokenizer().encode("abab")).containsExactly(256, 256);
    }

    private static Path hfWithIds(Path dir, String vocab, String addedTokens) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"added_tokens\": [" + addedTokens + "], \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
                + "\"model\": {\"type\": \"BPE\", \"vocab\": {" + vocab + "}, \"merges\": []}}");
        return file;
    }

    @Test
    void hfLoad_hugeVocabId_isRejectedNamingFileAndEntry(@TempDir Path dir) throws IOException {
        Path file = hfWithIds(dir, "\"a\": 0, \"b\": 2000000000", "");
        assertThatThrownBy(() -> HfTokenizerLoader.load(file, null)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("model.vocab[\"b\"]")
                .hasMessageContaining("2000000000").hasMessageContaining("[0, 2)");
    }

    @Test
    void hfLoad_negativeAddedTokenId_isRejectedNamingFileAndEntry(@TempDir Path dir) throws IOException {
        Path file = hfWithIds(dir, "\"a\": 0", "{\"id\": -1, \"content\": \"<s>\", \"special\": true}");
        assertThatThrownBy(() -> HfTokenizerLoader.load(file, null)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("added_tokens[0] (\"<s>\")")
                .hasMessageContaining("-1");
    }

    @Test
    void hfLoad_nonIntegerIds_areRejectedNamingFileAndEntry(@TempDir Path dir) throws IOException {
        for (String bad : List.of("\"1\"", "1.5", "null", "4294967296")) {
            Path file = hfWithIds(dir, "\"a\": 0, \"b\": " + bad, "");
            assertThatThrownBy(() -> HfTokenizerLoader.load(file, null)).as(bad).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("model.vocab[\"b\"]")
                    .hasMessageContaining("expected an integer");
        }
        Path missing = hfWithIds(dir, "\"a\": 0", "{\"content\": \"<s>\"}");
        assertThatThrownBy(() -> HfTokenizerLoader.load(missing, null)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("added_tokens[0] (\"<s>\") has id missing");
    }

    @Test
    void hfLoad_duplicateIds_areRejectedNamingBothTokens(@TempDir Path dir) throws IOException {
        Path vocabDup = hfWithIds(dir, "\"a\": 0, \"b\": 0", "");
        assertThatThrownBy(() -> HfTokenizerLoader.load(vocabDup, null)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining(vocabDup.toString()).hasMessageContaining("model.vocab[\"b\"] has id 0")
                .hasMessageContaining("\"a\"");
        Path addedDup = hfWithIds(dir, "\"a\": 0", "{\"id\": 0, \"content\": \"<s>\"}");
        assertThatThrownBy(() -> HfTokenizerLoader.load(addedDup, null)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("added_tokens[0] (\"<s>\") has id 0, already the id of \"a\"");
        Path addedTwice = hfWithIds(dir, "\"a\": 0", "{\"id\": 1, \"content\": \"<s>\"}, {\"id\": 1, \"content\": \"</s>\"}");
        assertThatThrownBy(() -> HfTokenizerLoader.load(addedTwice, null)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("added_tokens[1] (\"</s>\") has id 1, already the id of \"<s>\"");
    }
}
