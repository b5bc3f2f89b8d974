package io.kvserve.common.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.tokenizer.Tokenizer.EncodeOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Hand-made vocabularies with ids worked out on paper (see each test's comment). */
class SentencePieceBpeTokenizerTest {
    // ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then PIECES from 259
    private static final String[] PIECES = {"▁", "h", "e", "l", "o", "w", "r", "d", "ll", "he", "hell", "▁w", "or",
        "▁wor", "hello", "▁hello", "a", "aa", "<tool>"};
    private static final float[] PIECE_SCORES = {-10, -11, -12, -13, -14, -15, -16, -17, -1, -2, -3, -4, -5, -6, -7,
        -8, -20, -0.5f, 0};

    private static int id(String piece) {
        return 259 + List.of(PIECES).indexOf(piece);
    }

    private static GgufTokenizerData vocab(boolean withByteTokens, Boolean addSpacePrefix) {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(2, 3, 3));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        for (int b = 0; b < 256; b++) {
            tokens.add(withByteTokens ? String.format("<0x%02X>", b) : "[unused" + b + "]");
            types.add(withByteTokens ? 6 : 5);
            scores.add(0f);
        }
        for (int i = 0; i < PIECES.length; i++) {
            tokens.add(PIECES[i]);
            types.add(PIECES[i].equals("<tool>") ? 4 : 1);
            scores.add(PIECE_SCORES[i]);
        }
        float[] scoreArray = new float[scores.size()];
        for (int i = 0; i < scoreArray.length; i++) {
            scoreArray[i] = scores.get(i);
        }
        return new GgufTokenizerData("llama", null, tokens, scoreArray, types.stream().mapToInt(Integer::intValue).toArray(),
                null, OptionalInt.of(1), OptionalInt.of(2), OptionalInt.of(0), OptionalInt.empty(), null, null,
                addSpacePrefix, null);
    }

    private static Tokenizer tokenizer() {
        return GgufTokenizerLoader.load(vocab(true, null)).tokenizer();
    }

    @Test
    void encode_helloWorld_mergesByHighestScore() {
        // "▁hello▁world": ll(-1), he(-2), hell(-3), ▁w(-4), or(-5), ▁wor(-6), hello(-7), ▁hello(-8);
        // "l", "d" stay single: no "ld"/"▁worl" piece.
        assertThat(tokenizer().encode("hello world"))
                .containsExactly(id("▁hello"), id("▁wor"), id("l"), id("d"));
    }

    @Test
    void encode_equalScores_mergesLeftmostFirst() {
        // "▁aaa": both "aa" pairs score -0.5; the left one merges, leaving "a" alone.
        assertThat(tokenizer().encode("aaa")).containsExactly(id("▁"), id("aa"), id("a"));
    }

    @Test
    void encode_charNotInVocabulary_fallsBackToByteTokens() {
        // "€" = E2 82 AC, byte token ids are 3 + byte
        assertThat(tokenizer().encode("h€")).containsExactly(id("▁"), id("h"), 3 + 0xE2, 3 + 0x82, 3 + 0xAC);
    }

    @Test
    void encode_noByteTokens_usesUnknown() {
        Tokenizer tokenizer = GgufTokenizerLoader.load(vocab(false, null)).tokenizer();
        assertThat(tokenizer.encode("h€")).containsExactly(id("▁"), id("h"), 0);
    }

    @Test
    void encode_withSpecials_addsBosAndPrefixesSpaceAfterControlTokens() {
        // BOS added; "<s>" parsed; the text after a special token gets "▁" again.
        assertThat(tokenizer().encodeWithSpecials("he</s>he"))
                .containsExactly(1, id("▁"), id("he"), 2, id("▁"), id("he"));
        assertThat(tokenizer().encode("he</s>", EncodeOptions.RAW))
                .doesNotContain(2);
    }

    @Test
    void encode_userDefinedToken_matchedEvenInRawText() {
        assertThat(tokenizer().encode("he<tool>he")).containsExactly(id("▁"), id("he"), id("<tool>"), id("▁"), id("he"));
    }

    @Test
    void encode_spacePrefixOff_noLeadingMark() {
        Tokenizer tokenizer = GgufTokenizerLoader.load(vocab(true, false)).tokenizer();
        assertThat(tokenizer.encode("hello world")).containsExactly(id("hello"), id("▁wor"), id("l"), id("d"));
        assertThat(tokenizer.decode(tokenizer.encode("hello world"))).isEqualTo("hello world");
    }

    @Test
    void decode_encoded_roundTripsWithoutTheAddedSpace() {
        Tokenizer tokenizer = tokenizer();
        for (String text : List.of("hello world", "h€ and 😀 ok", "  two  spaces ", "")) {
            assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);
        }
        assertThat(tokenizer.decode(tokenizer.encodeWithSpecials("hello"), true)).isEqualTo("hello");
        assertThat(tokenizer.decode(tokenizer.encodeWithSpecials("hello"), false)).isEqualTo("<s> hello");
    }

    @Test
    void load_defaults_followLlamaCpp() {
        Tokenizer tokenizer = tokenizer();
        assertThat(tokenizer.bosId()).hasValue(1);
        assertThat(tokenizer.eosId()).hasValue(2);
        assertThat(tokenizer.addBos()).isTrue();
        assertThat(tokenizer.addEos()).isFalse();
        assertThat(tokenizer.tokenType(3 + 0x41)).isEqualTo(TokenType.BYTE);
        assertThat(tokenizer.tokenBytes(3 + 0x41)).containsExactly(0x41);
        assertThat(tokenizer.tokenBytes(id("▁hello"))).isEqualTo(" hello".getBytes());
    }

    @Test
    void syntheticVocab_englishAndAdversarialText_compressesAndRoundTrips() {
        GgufTokenizerData data = SyntheticVocab.generateSentencePiece(32_000, 3);
        assertThat(data.tokens()).hasSize(32_000);
        Tokenizer tokenizer = GgufTokenizerLoader.load(data).tokenizer();
        String text = "The model would like to see the other people in the world.";
        assertThat(tokenizer.encode(text).length).isLessThan(text.length() / 3);
        for (String s : AdversarialStrings.random(2_000, 9)) {
            String expected = Utf8.replaceLoneSurrogates(s).replace(SentencePieceBpeTokenizer.SPACE_MARK, ' ');
            assertThat(tokenizer.decode(tokenizer.encode(s))).isEqualTo(expected);
        }
        int[] ids = tokenizer.encode("日本語 😀");
        assertThat(java.util.Arrays.stream(ids).anyMatch(id -> tokenizer.tokenType(id) == TokenType.BYTE)).isTrue();
    }
}
