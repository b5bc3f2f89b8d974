package io.kvserve.common.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.tokenizer.SyntheticVocab.Family;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IncrementalDetokenizerTest {
    private static final Tokenizer TINY = GgufTokenizerLoader.load(SyntheticVocab.generate(Family.TINY, 1).toGguf())
            .tokenizer();

    private static List<String> deltas(Tokenizer tokenizer, int[] ids, boolean skipSpecials) {
        IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(tokenizer, skipSpecials);
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(detokenizer.push(id));
        }
        out.add(detokenizer.flush());
        return out;
    }

    @Test
    void push_emojiSplitAcrossByteTokens_holdsUntilComplete() {
        int[] ids = TINY.encode("a😀b");
        List<String> deltas = deltas(TINY, ids, false);
        assertThat(String.join("", deltas)).isEqualTo("a😀b");
        for (String delta : deltas) {
            assertThat(delta).doesNotContain("\uFFFD");
            assertThat(delta).isIn("", "a", "😀", "b", "a😀", "😀b", "a😀b");
        }
    }

    @Test
    void push_anyTextAnyFamily_deltasConcatenateToDecode() {
        for (Tokenizer tokenizer : List.of(TINY,
                GgufTokenizerLoader.load(SyntheticVocab.generate(Family.SMOLLM2, 1).toGguf()).tokenizer())) {
            for (String text : AdversarialStrings.random(300, 3)) {
                int[] ids = tokenizer.encodeWithSpecials(text);
                for (boolean skip : new boolean[] {false, true}) {
                    List<String> deltas = deltas(tokenizer, ids, skip);
                    assertThat(String.join("", deltas)).isEqualTo(tokenizer.decode(ids, skip));
                    for (String delta : deltas) {
                        assertThat(delta).doesNotContain("\uFFFD".repeat(text.contains("\uFFFD") ? 99 : 1));
                    }
                }
            }
        }
    }

    @Test
    void push_randomIds_deltasConcatenateToDecodeIncludingReplacements() {
        SplittableRandom random = new SplittableRandom(5);
        for (int round = 0; round < 2_000; round++) {
            int[] ids = random.ints(1 + random.nextInt(10), 0, TINY.vocabSize()).toArray();
            assertThat(String.join("", deltas(TINY, ids, true))).isEqualTo(TINY.decode(ids, true));
            assertThat(String.join("", deltas(TINY, ids, false))).isEqualTo(TINY.decode(ids, false));
        }
    }

    @Test
    void push_sentencePieceByteFallback_stripsFirstSpaceAndJoinsBytes() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        int[] types = new int[3 + 256 + 3];
        types[0] = 2;
        types[1] = 3;
        types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types[3 + b] = 6;
        }
        tokens.add("▁hi");
        tokens.add("▁");
        tokens.add("▁h");
        types[259] = 1;
        types[260] = 1;
        types[261] = 1;
        Tokenizer spm = GgufTokenizerLoader.load(new GgufTokenizerData("llama", null, tokens, new float[tokens.size()],
                types, null, java.util.OptionalInt.empty(), java.util.OptionalInt.empty(), java.util.OptionalInt.empty(),
                java.util.OptionalInt.empty(), null, null, null, null)).tokenizer();
        int[] ids = spm.encodeWithSpecials("hi €");
        assertThat(ids).containsExactly(1, 259, 260, 3 + 0xE2, 3 + 0x82, 3 + 0xAC);
        List<String> deltas = deltas(spm, ids, true);
        assertThat(deltas).containsExactly("", "hi", " ", "", "", "€", "");
    }

    @Test
    void flush_truncatedCharacter_givesReplacementLikeDecode() {
        int[] ids = TINY.encode("😀");
        int[] cut = java.util.Arrays.copyOf(ids, ids.length - 1);
        IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(TINY, false);
        StringBuilder out = new StringBuilder();
        for (int id : cut) {
            out.append(detokenizer.push(id));
        }
        assertThat(out.toString()).isEmpty();
        assertThat(detokenizer.numPendingBytes()).isPositive();
        assertThat(detokenizer.flush()).isEqualTo(TINY.decode(cut)).contains("\uFFFD");
    }

    @Test
    void push_idOutsideVocabulary_throwsNamingIdAndRange() {
        int n = TINY.vocabSize();
        for (boolean skipSpecials : new boolean[] {false, true}) {
            IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(TINY, skipSpecials);
            for (int id : new int[] {n, -1, Integer.MAX_VALUE}) {
                assertThatThrownBy(() -> detokenizer.push(id))
                        .isExactlyInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessage("token id " + id + " outside vocabulary [0, " + n + ")");
            }
        }
    }

    @Test
    void decode_idOutsideVocabulary_throwsNamingIdAndRange() {
        int size = TINY.vocabSize();
        for (boolean skipSpecials : new boolean[] {false, true}) {
            assertThatThrownBy(() -> TINY.decode(new int[] {0, size}, skipSpecials))
                    .isExactlyInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessage("token id " + size + " outside vocabulary [0, " + size + ")");
            assertThatThrownBy(() -> TINY.decode(new int[] {-5}, skipSpecials))
                    .isExactlyInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("token id -5");
        }
    }

    @Test
    void push_everyToken_leavesTokenBytesUnchanged() {
        VocabularyTokenizer vocabulary = (VocabularyTokenizer) TINY;
        IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(TINY, false);
        for (int id = 0; id < TINY.vocabSize(); id++) {
            byte[] before = TINY.tokenBytes(id);
            assertThat(vocabulary.tokenBytesShared(id)).isEqualTo(before);
            detokenizer.push(id);
            assertThat(TINY.tokenBytes(id)).isEqualTo(before);
        }
        detokenizer.flush();
    }
}
