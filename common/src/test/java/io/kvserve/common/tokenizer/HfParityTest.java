package io.kvserve.common.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.kvserve.common.tokenizer.SyntheticVocab.Family;
import io.kvserve.common.tokenizer.Tokenizer.EncodeOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Our byte-level BPE against the HF reference implementation (through DJL's JNI binding, loading the
 * synthetic tokenizer.json from disk, never from the hub).
 */
class HfParityTest {
    private static final EncodeOptions HF_LIKE = new EncodeOptions(true, false);
    private static final Map<Family, Pair> PAIRS = new EnumMap<>(Family.class);
    private static Path dir;

    private record Pair(Tokenizer ours, HuggingFaceTokenizer reference) {
    }

    private static synchronized Pair pair(Family family) {
        return PAIRS.computeIfAbsent(family, f -> {
            try {
                if (dir == null) {
                    dir = Files.createTempDirectory("kvserve-tok");
                }
                Path familyDir = dir.resolve(f.name());
                SyntheticVocab vocab = SyntheticVocab.generate(f, 42);
                vocab.writeHuggingFace(familyDir);
                Tokenizer ours = HfTokenizerLoader.load(familyDir.resolve("tokenizer.json"),
                        familyDir.resolve("tokenizer_config.json")).tokenizer();
                HuggingFaceTokenizer reference = HuggingFaceTokenizer.builder()
                        .optTokenizerPath(familyDir.resolve("tokenizer.json"))
                        .optAddSpecialTokens(false)
                        .optTruncation(false)
                        .build();
                return new Pair(ours, reference);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @AfterAll
    static void close() {
        PAIRS.values().forEach(p -> p.reference().close());
    }

    private static int[] referenceIds(HuggingFaceTokenizer reference, String text) {
        return Arrays.stream(reference.encode(text, false, false).getIds()).mapToInt(Math::toIntExact).toArray();
    }

    private static void assertSameIds(Pair pair, String text) {
        int[] expected = referenceIds(pair.reference(), text);
        int[] actual = pair.ours().encode(text, HF_LIKE);
        if (!Arrays.equals(expected, actual)) {
            int at = Arrays.mismatch(expected, actual);
            int from = Math.max(0, at - 3);
            String context = escape(pair.ours().decode(Arrays.copyOfRange(expected, from,
                    Math.min(expected.length, at + 4))));
            throw new AssertionError("first difference at id index " + at + " of " + expected.length
                    + " (text length " + text.length() + "), HF " + Arrays.toString(Arrays.copyOfRange(expected,
                    from, Math.min(expected.length, at + 4))) + " ours " + Arrays.toString(Arrays.copyOfRange(actual,
                    from, Math.min(actual.length, at + 4))) + " around '" + context + "'"
                    + (text.length() < 200 ? " in '" + escape(text) + "'" : ""));
        }
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp > 0x7E) {
                sb.append(String.format("\\u{%x}", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void encode_adversarialStrings_matchesHf(Family family) {
        Pair pair = pair(family);
        for (String text : AdversarialStrings.random(3_000, family.ordinal())) {
            assertSameIds(pair, text);
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void encode_mixedProseCodeCjk_matchesHf(Family family) {
        Pair pair = pair(family);
        String text = SyntheticText.mixed(200_000, 5);
        assertSameIds(pair, text);
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void encode_oneMegabyteInputs_matchesHf(Family family) {
        Pair pair = pair(family);
        assertSameIds(pair, SyntheticText.mixed(1 << 20, 9));
        assertSameIds(pair, "a".repeat(1 << 20));
        assertSameIds(pair, " ".repeat(1 << 20) + "x");
        assertSameIds(pair, "7".repeat(1 << 20));
        assertSameIds(pair, "!?".repeat(1 << 19));
        assertSameIds(pair, "\r\n \t".repeat(1 << 18));
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void encode_specialTokensInText_matchesHf(Family family) {
        Pair pair = pair(family);
        Tokenizer ours = pair.ours();
        List<String> specials = java.util.stream.IntStream.range(0, ours.vocabSize())
                .filter(id -> ours.tokenType(id) == TokenType.CONTROL || ours.tokenType(id) == TokenType.USER_DEFINED)
                .mapToObj(ours::tokenText).limit(6).toList();
        for (String s : specials) {
            assertSameIds(pair, s);
            assertSameIds(pair, "Hi " + s + " there" + s + s + "\n");
            assertSameIds(pair, s.substring(0, s.length() - 1) + " " + s);
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void encode_loneSurrogates_areReplacementCharacters(Family family) {
        Pair pair = pair(family);
        String broken = "ab\uD800cd\uDC00 \uDBFF\uD83D\uDE00x\uD83D";
        int[] ours = pair.ours().encode(broken, HF_LIKE);
        assertThat(ours).containsExactly(referenceIds(pair.reference(), "ab\uFFFDcd\uFFFD \uFFFD\uD83D\uDE00x\uFFFD"));
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void decode_encodedText_roundTripsAndMatchesHf(Family family) {
        Pair pair = pair(family);
        for (String text : AdversarialStrings.random(1_000, 100 + family.ordinal())) {
            int[] ids = pair.ours().encode(text);
            String expected = family == Family.QWEN2 ? Normalizer.normalize(text, Normalizer.Form.NFC) : text;
            assertThat(pair.ours().decode(ids)).isEqualTo(expected);
            long[] longIds = Arrays.stream(ids).asLongStream().toArray();
            assertThat(pair.ours().decode(ids)).isEqualTo(pair.reference().decode(longIds, false));
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void decode_arbitraryIdSequences_matchesHfIncludingInvalidUtf8(Family family) {
        Pair pair = pair(family);
        java.util.SplittableRandom random = new java.util.SplittableRandom(family.ordinal());
        int vocabSize = pair.ours().vocabSize();
        for (int i = 0; i < 500; i++) {
            int[] ids = random.ints(1 + random.nextInt(8), 0, Math.min(vocabSize, 600)).toArray();
            long[] longIds = Arrays.stream(ids).asLongStream().toArray();
            assertThat(pair.ours().decode(ids, true)).isEqualTo(pair.reference().decode(longIds, true));
            assertThat(pair.ours().decode(ids, false)).isEqualTo(pair.reference().decode(longIds, false));
        }
    }
}
