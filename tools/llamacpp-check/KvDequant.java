// kvserve side of `check.sh quant`'s read-back check; run with the JDK's source launcher on kvserve's classpath.
//   KvDequant MODEL.gguf OUTDIR [TENSOR ...]   writes kvserve's dequantized values of each tensor (all when none is
//                                              named) to OUTDIR/NAME.f32, little-endian float32
import io.kvserve.common.gguf.GgufFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

public class KvDequant {
    public static void main(String[] a) throws Exception {
        try (GgufFile g = GgufFile.open(Path.of(a[0]))) {
            List<String> names = a.length > 2 ? Arrays.asList(a).subList(2, a.length) : List.copyOf(g.tensors().keySet());
            for (String name : names) {
                float[] v = g.dequantizeAll(name);
                ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                Files.write(Path.of(a[1], name + ".f32"), b.array());
            }
        }
    }
}
