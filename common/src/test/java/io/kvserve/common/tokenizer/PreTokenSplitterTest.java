package io.kvserve.common.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every hand-compiled splitter against the java.util.regex expression it replaces. */
class PreTokenSplitterTest {

    private static List<String> pieces(PreTokenSplitter splitter, String text) {
        IntList spans = new IntList(16);
        splitter.split(text, 0, text.length(), spans);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < spans.size(); i += 2) {
            out.add(text.substring(spans.get(i), spans.get(i + 1)));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {PreTokenizer.LLAMA3_REGEX, PreTokenizer.QWEN2_REGEX, PreTokenizer.GPT2_REGEX,
        PreTokenizer.SINGLE_DIGIT_REGEX, PreTokenizer.DIGIT_RUN_REGEX})
    void split_handCompiled_matchesRegex(String regex) {
        PreTokenSplitter fast = PreTokenSplitter.forRegex(regex);
        PreTokenSplitter reference = new PreTokenSplitter.RegexSplitter(regex);
        assertThat(fast).isNotInstanceOf(PreTokenSplitter.RegexSplitter.class);
        List<String> texts = new ArrayList<>(AdversarialStrings.random(20_000, 77));
        texts.add(SyntheticText.mixed(300_000, 8));
        texts.addAll(List.of("'S 'T 'RE 'Ve 'ſ 'll'd", "a'", "'", " '", "x  \n\n  y", "\r\n\r\n", " \t\u00A0x", "  ",
                "12345678", " 1", "  !!\n\n", "a\uD83D\uDE00b", "\uD800x"));
        for (String text : texts) {
            assertThat(pieces(fast, text)).as("%s", text.length() < 300 ? text : "long text").isEqualTo(pieces(reference, text));
        }
    }
}
