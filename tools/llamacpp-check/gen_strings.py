# Adversarial tokenizer strings for `check.sh tokens`: writes one hex-encoded UTF-8 string per line to argv[1].
# Deterministic (fixed seeds): part 1 is hand-picked prose, code, numbers, contractions, whitespace, emoji, CJK,
# combining marks, RTL, Unicode spaces, control characters and random code points (seed 42); part 2 is random
# concatenations of atoms that stress the pre-tokenizer patterns (seed 7).
import random, sys

def part1():
    random.seed(42)
    S = []
    prose = ["Hello world", "The quick brown fox jumps over the lazy dog.", "It was the best of times, it was the worst of times.",
     "In 1492, Columbus sailed the ocean blue.", "She said: \"Don't go there!\" and left.", "A man, a plan, a canal: Panama",
     "Machine learning models are trained on large datasets.", "hello", " hello", "  hello", "hello ", "Hello, World!", "HELLO WORLD",
     "e-mail: john.doe@example.com; web: https://example.org/path?q=1&x=y#frag", "The year is 2026 and the price is $1,234.56.",
     "Mr. O'Neil's dog isn't here; they're out.", "well-known state-of-the-art results", "...", "?!?!", "--", "a", "I", " ",
     "Once upon a time, in a land far, far away, there lived a king who had three daughters.", "Où est la bibliothèque ? Ça va très bien, merci.",
     "Straße Ärger Öl über", "naïve café résumé coöperate", "Привет, мир! Как дела?", "Γειά σου Κόσμε", "Dziękuję bardzo", "İstanbul ılık",
    ]
    S += prose
    code = ["def f(x):\n    return x * 2\n", "for (int i = 0; i < n; ++i) { sum += a[i]; }", "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n}\n",
     "if x != None and y >= 3: pass", "const x = () => { return `template ${y}`; };", "SELECT * FROM users WHERE id = 7;", "<div class=\"a\">text</div>",
     "    indented\n        more\n", "x+=1;y-=2;z*=3;w/=4", "arr[0][1] = {'k': [1, 2, 3]}", "fn main() -> Result<(), Box<dyn Error>> {}", "$ ls -la | grep foo && echo ok",
     "λx.x", "a->b::c", "i++ + ++i", "\"\"\"docstring\"\"\"", "//comment\n/* block */", "0x1F 0b1010 0o777 1e-10 3.14159", "key=value\n[section]\n", "@decorator\nclass A(B):\n\tpass",
    ]
    S += code
    nums = ["1", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890", "3.14159265358979323846", "1,000,000", "-42", "+7", "007",
     "2026-11-22", "10:45:30", "0.0001", "1e100", "99999999999999999999999999999999", "1 2 3 4 5", "a1b2c3", "x123y", "٣٤٥", "１２３４５", "①②③", "ⅫⅣ", "12.34.56", "$100", "50%", "3/4", "1/2/3"]
    S += nums
    contr = ["don't", "DON'T", "I'm", "I'M", "you're", "YOU'RE", "he'll", "HE'LL", "we've", "WE'VE", "she'd", "SHE'D", "it's", "IT'S", "Don'T", "can't won't", "'s", "'S", "'ll'", "rock'n'roll", "o'clock", "'tis", "y'all'd've", "I'M NOT SURE THEY'RE READY", "’s curly", "don’t", "It'S", "we'Ve", "'", "''"]
    S += contr
    ws = ["a  b", "a   b", "a\tb", "a\t\tb", "a\nb", "a\n\nb", "a\r\nb", "a\r\n\r\nb", "\n", "\n\n\n", "\t", "  ", "   ", "    ", "\r", "\r\n", " \n ", "a \n b", "a  \n  b", "line1\nline2\n", "   leading", "trailing   ", "\t\tindent", "a \t b", "x\u000by\u000cz", "mixed \t\n\r\n  spaces", " a", "  a", "a ", "a  ", "\n a", "hello \n\n\nworld"]
    S += ws
    emoji = ["😀", "hello 😀 world", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "👩🏿‍💻", "🇺🇸🇯🇵", "😀😃😄😁", "a😀b", "🤖🚀✨", "✌🏻✌🏼✌🏽✌🏾✌🏿", "🧑‍🤝‍🧑", "☺︎", "#️⃣", "1️⃣2️⃣", "🫠", "👁‍🗨", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "emoji at end 🎉"]
    S += emoji
    cjk = ["你好，世界", "我爱北京天安门", "日本語のテキストです。", "こんにちは", "カタカナ", "한국어 텍스트", "안녕하세요 세계", "中文English混合", "漢字かな交じり文", "繁體中文測試", "「引用」『二重』", "𠀀𠀁𪚥", "你好 world 123", "。、！？", "ｈｅｌｌｏ　ｗｏｒｌｄ", "東京都渋谷区1-2-3"]
    S += cjk
    comb = ["e\u0301", "a\u0300\u0301\u0302", "Z\u0351\u0352\u0357\u0358", "n\u0303o", "\u0301", "cafe\u0301", "\u0915\u094d\u0937", "नमस्ते दुनिया", "ภาษาไทย", "ผู้ใหญ่", "ཀྵ", "ắ", "A\u030a", "\u05e9\u05c1\u05b8", "tĕst̃", "q\u0307\u0323"]
    S += comb
    rtl = ["مرحبا بالعالم", "السلام عليكم", "שלום עולם", "עברית 123", "abc مرحبا def", "\u202eabc\u202c", "\u200fRTL\u200e", "فارسی", "اردو", "ﷺ", "ﻻ", "٠١٢٣٤٥٦٧٨٩"]
    S += rtl
    spaces = ["a\u00a0b", "\u00a0", "a\u2003b", "a\u2009b", "a\u3000b", "a\u200bb", "a\u2028b", "a\u2029b", "a\u0085b", "a\u1680b", "a\u202fb", "a\u205fb", "\ufeffBOM", "a\u2060b", "a\u180eb", "a\u00a0\u00a0b", " \u00a0 ", "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a", "x \u00a0y", "100\u00a0€"]
    S += spaces
    ctrl = ["a\x00b", "\x01\x02\x03", "\x07bell", "esc\x1b[0m", "\x7f", "a\x1fb", "\x08\x08", "\u0080\u0081\u009f", "tab\x0bvt", "\x1c\x1d\x1e", "\x00", "nul\x00\x00end"]
    S += ctrl
    # random strings over code point pools
    pools = [(0x20,0x7e),(0x00,0x7f),(0x80,0x7ff),(0x800,0xffff),(0x10000,0x10ffff),(0x4e00,0x9fff),(0x0600,0x06ff),(0x0300,0x036f),(0x1f300,0x1faff),(0x2000,0x206f)]
    def rc(lo,hi):
        while True:
            c = random.randint(lo,hi)
            if not (0xd800 <= c <= 0xdfff): return chr(c)
    for i in range(160):
        n = random.randint(1, 24)
        k = random.randint(1, 3)
        ps = random.sample(pools, k)
        S.append("".join(rc(*random.choice(ps)) for _ in range(n)))
    # random word-ish mixtures
    words = ["the","The","THE","hello","world","don't","I'M","123","4567"," ","  ","\n","\t","😀","你好","é","'s","'LL","!!","...","\u00a0","x","Ab","aB","9","٣","—","“","”","€","\r\n"]
    for i in range(120):
        S.append("".join(random.choice(words) for _ in range(random.randint(1,10))))
    # long ones
    S.append(" ".join(prose))
    S.append("\n".join(code))
    S.append("".join(str(random.randint(0,9)) for _ in range(200)))
    S.append(" " * 50 + "x" + "\t" * 10)
    return S

def part2():
    random.seed(7)
    S=[]
    # adversarial whitespace/punct/digit/letter mixtures, built from atoms that stress pre-tokenizer regexes
    atoms = [" ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n", "\u00a0", "\u3000", "\u2009", "\u200b", "\ufeff",
     "a", "A", "z", "é", "É", "ß", "ǅ", "ﬁ", "İ", "ı", "Ω", "ж", "Ж", "中", "あ", "ア", "한", "ا", "ש", "\u0301", "\u0651", "\u093f",
     "0", "1", "12", "123", "1234", "12345", "٣", "४", "５", "½", "²", "Ⅻ", "'", "'s", "'S", "'t", "'T", "'re", "'RE", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'d", "'D", "’",
     ".", ",", "!", "?", "...", "—", "-", "_", "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "|", "@", "#", "$", "%", "^", "&", "*", "+", "=", "~", "`", "\"", ";", ":",
     "😀", "👍🏽", "\u200d", "\ufe0f", "🇯🇵", "\x00", "\x01", "\x1b", "\x7f", "\u0085", "\u2028", "\U0001F3F4\U000E0067", "\U000E0001", "\uFFFD", "\uFFFF", "\U0010FFFF", "\uE000",
     "the", "The", "THE", "hello", "world", "don", "http", "www", ".com", "print", "def", "self", "return", "    ", "\t\t"]
    for i in range(450):
        n = random.randint(1, 16)
        S.append("".join(random.choice(atoms) for _ in range(n)))
    return S

def dedup(S):
    seen = set(); out = []
    for s in S:
        if s not in seen and s != "": seen.add(s); out.append(s)
    return out

strings = dedup(part1()) + dedup(part2())
with open(sys.argv[1], "w") as f:
    f.write("".join(s.encode("utf-8").hex() + "\n" for s in strings))
print(len(strings), "strings", file=sys.stderr)
