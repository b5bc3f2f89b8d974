package io.kvserve.common.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.tokenizer.SyntheticVocab.Family;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ByteLevelBpeTokenizerTest {
    private static final Tokenizer TINY = GgufTokenizerLoader.load(SyntheticVocab.generate(Family.TINY, 1).toGguf())
            .tokenizer();

    @Test
    void encode_manyThreadsSharingOneTokenizer_sameIdsAsSingleThread() throws Exception {
        Tokenizer tokenizer = GgufTokenizerLoader.load(SyntheticVocab.generate(Family.SMOLLM2, 2).toGguf()).tokenizer();
        List<String> texts = AdversarialStrings.random(400, 21);
        Tokenizer fresh = GgufTokenizerLoader.load(SyntheticVocab.generate(Family.SMOLLM2, 2).toGguf()).tokenizer();
        List<int[]> expected = new ArrayList<>();
        for (String text : texts) {
            expected.add(fresh.encode(text));
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int offset = t;
                results.add(pool.submit(() -> {
                    for (int round = 0; round < 5; round++) {
                        for (int i = 0; i < texts.size(); i++) {
                            int k = (i + offset * 37) % texts.size();
                            if (!java.util.Arrays.equals(tokenizer.encode(texts.get(k)), expected.get(k))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        }
    }

    @Test
    void encode_controlTokenInRawText_isSplitAsText() {
        int[] raw = TINY.encode("<|eot_id|>");
        assertThat(raw).hasSizeGreaterThan(1).doesNotContain(1_009);
        assertThat(TINY.encode("<|eot_id|>", Tokenizer.EncodeOptions.RENDERED_CHAT)).containsExactly(1_009);
    }

    @Test
    void encode_addSpecialTokens_addsBosOnlyWhenModelSaysSo() {
        assertThat(TINY.encodeWithSpecials("")).containsExactly(TINY.bosId().getAsInt());
        assertThat(TINY.encode("")).isEmpty();
    }

    @Test
    void tokenBytes_byteLevelToken_givesRawBytes() {
        int space = TINY.encode(" ")[0];
        assertThat(TINY.tokenText(space)).isEqualTo("\u0120");
        assertThat(TINY.tokenBytes(space)).containsExactly(' ');
        assertThat(TINY.tokenBytes(1_009)).isEqualTo("<|eot_id|>".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(TINY.isSpecial(1_009)).isTrue();
    }

    @Test
    void decode_skipSpecials_dropsControlTokensOnly() {
        int[] ids = TINY.encode("<|start_header_id|>hi<|eot_id|>", Tokenizer.EncodeOptions.RENDERED_CHAT);
        assertThat(TINY.decode(ids, true)).isEqualTo("hi");
        assertThat(TINY.decode(ids, false)).isEqualTo("<|start_header_id|>hi<|eot_id|>");
    }

    @Test
    void constructor_vocabularyMissingOneByteToken_namesTheByte() {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            if (b != 0x0A) {
                tokens.add(String.valueOf(ByteLevel.byteToChar(b)));
            }
        }
        TokenType[] types = new TokenType[tokens.size()];
        java.util.Arrays.fill(types, TokenType.NORMAL);
        SpecialTokens specials = new SpecialTokens(java.util.OptionalInt.empty(), java.util.OptionalInt.empty(),
                java.util.OptionalInt.empty(), java.util.OptionalInt.empty(), false, false);
        assertThatThrownBy(() -> new ByteLevelBpeTokenizer(tokens, types, List.of(), PreTokenizer.gpt2(), specials,
                false, false))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining("no token for byte 0x0A")
                .hasMessageContaining("all 256 byte tokens are required");
        tokens.add(String.valueOf(ByteLevel.byteToChar(0x0A)));
        TokenType[] allTypes = java.util.Arrays.copyOf(types, tokens.size());
        allTypes[allTypes.length - 1] = TokenType.NORMAL;
        Tokenizer full = new ByteLevelBpeTokenizer(tokens, allTypes, List.of(), PreTokenizer.gpt2(), specials, false, false);
        assertThat(full.decode(full.encode("a\nb"))).isEqualTo("a\nb");
    }
}
