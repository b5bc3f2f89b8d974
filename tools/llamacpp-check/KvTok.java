// kvserve side of `check.sh tokens`; run with the JDK's source launcher on kvserve's classpath.
//   KvTok lines MODEL.gguf STRINGS.hex          ids of Tokenizer.encode (RAW: no BOS/EOS, control tokens not parsed)
//                                               for each hex-encoded UTF-8 line, as "a,b,c" per line
//   KvTok text OUT.txt MIB SEED                 writes SyntheticText.mixed(MIB << 20 chars, SEED)
//   KvTok whole MODEL.gguf TEXT.txt REF.ids     encodes the whole text in one call and compares with llama.cpp's ids
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.tokenizer.SyntheticText;
import io.kvserve.common.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;

public class KvTok {
    public static void main(String[] a) throws Exception {
        switch (a[0]) {
            case "lines" -> lines(Path.of(a[1]), Path.of(a[2]));
            case "text" -> Files.writeString(Path.of(a[1]), SyntheticText.mixed(Integer.parseInt(a[2]) << 20, Long.parseLong(a[3])));
            case "whole" -> whole(Path.of(a[1]), Path.of(a[2]), Path.of(a[3]));
            default -> throw new IllegalArgumentException("mode: lines | text | whole");
        }
    }

    static void lines(Path model, Path hex) throws Exception {
        try (ModelFile mf = ModelFile.open(model)) {
            Tokenizer tk = mf.tokenizer().tokenizer();
            StringBuilder out = new StringBuilder();
            for (String line : Files.readAllLines(hex)) {
                String s = new String(HexFormat.of().parseHex(line.trim()), StandardCharsets.UTF_8);
                try {
                    int[] ids = tk.encode(s);
                    for (int i = 0; i < ids.length; i++) out.append(i > 0 ? "," : "").append(ids[i]);
                } catch (RuntimeException e) {
                    out.append("EXCEPTION ").append(e);
                }
                out.append('\n');
            }
            System.out.print(out);
        }
    }

    static void whole(Path model, Path textFile, Path refFile) throws Exception {
        String text = Files.readString(textFile);
        try (ModelFile mf = ModelFile.open(model)) {
            Tokenizer tok = mf.tokenizer().tokenizer();
            long t0 = System.nanoTime();
            int[] ours = tok.encode(text);
            double s = (System.nanoTime() - t0) / 1e9;
            int[] ref = Arrays.stream(Files.readString(refFile).trim().split(",")).mapToInt(x -> Integer.parseInt(x.trim())).toArray();
            System.out.printf("  kvserve %d ids (one cold encode call: %.2f s), llama.cpp %d ids: ", ours.length, s, ref.length);
            int n = Math.min(ours.length, ref.length);
            for (int i = 0; i < n; i++) {
                if (ours[i] != ref[i]) {
                    int from = Math.max(0, i - 3);
                    System.out.println("first mismatch at id " + i);
                    System.out.println("    kvserve:   " + pieces(tok, Arrays.copyOfRange(ours, from, Math.min(ours.length, i + 8))));
                    System.out.println("    llama.cpp: " + pieces(tok, Arrays.copyOfRange(ref, from, Math.min(ref.length, i + 8))));
                    return;
                }
            }
            System.out.println(ours.length == ref.length ? "identical" : "identical prefix, lengths differ");
        }
    }

    static String pieces(Tokenizer tok, int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(id).append("[").append(tok.tokenText(id)).append("] ");
        return sb.toString().trim();
    }
}
