package io.kvserve.common.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Hand-picked and random strings that stress pre-tokenizers and byte handling. */
final class AdversarialStrings {
    static final List<String> FRAGMENTS = List.of(
            "hello", " world", "Hello", "HELLO", " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n\n", " \n ",
            "\u00A0", "\u2003", "\u3000", "\u200B", "\u2028", "\u0085", "\u000B", "\u000C", "\u180E", "\uFEFF",
            "don't", "DON'T", "I'M", "we'LL", "You'Re", "it's", "'s", "''", "'", "’s",
            "0", "7", "42", "123", "1234", "1234567890123", "٣٤٥", "²³", "Ⅻ", "3.14", "1,000", "-5",
            "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "❤️", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀋",
            "東京", "中文字符", "こんにちは", "カタカナ", "한국어", "ㄱㅏ",
            "e\u0301", "a\u0308\u0323", "é", "Å", "ﬁ", "ǅ", "ß", "İ", "ſ",
            "مرحبا", "שלום", "\u200F", "\u202E", "नमस्ते", "ไทย",
            "...", "!!!", "?!", "();", "{}", "[]", "<|", "|>", "<", ">", "=>", "->", "//", "/*", "*/", "#", "@",
            "$", "%", "^", "&&", "||", "\\", "\"", "`", "~", "_", "__init__", "x_1", "camelCase", "snake_case",
            "\u0000", "\u0001", "\u001F", "\u007F", "\u0080", "\u009F", "\uFFFD", "\uFFFF", "\uE000",
            "www.example.com", "https://a.b/c?d=e", "user@mail.org", "C++", "C#", "--flag", "  indented",
            "tab\tsep", "line\r\nbreak", "trailing   ", "   \n   \n", "a\u00A0b", "x\u3000y");

    private AdversarialStrings() {
    }

    static List<String> random(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(count + FRAGMENTS.size());
        out.addAll(FRAGMENTS);
        for (int i = 0; i < count; i++) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + random.nextInt(12);
            for (int p = 0; p < parts; p++) {
                if (random.nextInt(6) == 0) {
                    sb.appendCodePoint(randomCodePoint(random));
                } else {
                    sb.append(FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
                }
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** A random assigned, non-surrogate code point from long-stable blocks. */
    private static int randomCodePoint(SplittableRandom random) {
        int[][] ranges = {{0x20, 0x7E}, {0xA0, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x590, 0x5FF},
            {0x600, 0x6FF}, {0x900, 0x97F}, {0x2000, 0x206F}, {0x2190, 0x22FF}, {0x3040, 0x30FF},
            {0x4E00, 0x9FA5}, {0xAC00, 0xD7A3}, {0x1F300, 0x1F5FF}};
        int[] range = ranges[random.nextInt(ranges.length)];
        while (true) {
            int cp = range[0] + random.nextInt(range[1] - range[0] + 1);
            if (Character.isDefined(cp)) {
                return cp;
            }
        }
    }
}
