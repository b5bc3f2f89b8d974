package io.kvserve.cli;

import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufTensorInfo;
import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.safetensors.HfModelDirectory;
import io.kvserve.common.safetensors.SafetensorsTensor;
import io.kvserve.common.tokenizer.LoadedTokenizer;
import io.kvserve.common.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/** What {@code kvserve model inspect} prints. */
final class ModelInspection {

    private ModelInspection() {
    }

    static void print(Path path, boolean summaryOnly, boolean listTensors, PrintWriter out) throws IOException {
        try (ModelFile model = ModelFile.open(path)) {
            ModelConfig c = model.config();
            Map<String, Integer> typeCounts = new TreeMap<>();
            long numParameters = 0;
            StringBuilder tensorLines = new StringBuilder();
            String header;
            if (model.gguf().isPresent()) {
                GgufFile gguf = model.gguf().get();
                for (GgufTensorInfo t : gguf.tensors().values()) {
                    typeCounts.merge(t.type().name(), 1, Integer::sum);
                    numParameters += t.numElements();
                    tensorLines.append(String.format("  %-32s %-5s ne=%s%n", t.name(), t.type(), Arrays.toString(t.ne())));
                }
                header = "GGUF v" + gguf.version();
            } else {
                HfModelDirectory hf = model.huggingFace().orElseThrow();
                try (HfModelDirectory.Weights weights = hf.openWeights()) {
                    for (String name : weights.tensorNames()) {
                        SafetensorsTensor t = weights.tensor(name).orElseThrow();
                        typeCounts.merge(t.dtype().name(), 1, Integer::sum);
                        numParameters += Arrays.stream(t.shape()).reduce(1, Math::multiplyExact);
                        tensorLines.append(String.format("  %-48s %-5s shape=%s%n", name, t.dtype(), Arrays.toString(t.shape())));
                    }
                }
                header = "safetensors, " + hf.shardPaths().size() + " shard(s)";
            }
            out.printf("%s: %s, %s, %.1fM parameters, tensors %s%n", path, header,
                    c.architecture().name().toLowerCase(), numParameters / 1e6, typeCounts);
            if (summaryOnly) {
                out.flush();
                return;
            }
            out.printf("  dim %d, ffn %d, layers %d, heads %d (kv %d, head_dim %d), vocab %d, context %d%n",
                    c.dim(), c.hiddenDim(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.vocabSize(), c.contextLength());
            out.printf("  rope theta %s (%s, scaling %s), rms eps %s, tied embeddings %s, qkv bias %s%n",
                    c.ropeTheta(), c.ropeLayout(), c.ropeScaling(), c.rmsNormEps(), c.tiedEmbeddings(), c.qkvBias());
            LoadedTokenizer loaded = model.tokenizer();
            Tokenizer tok = loaded.tokenizer();
            out.printf("  tokenizer: %s, %d tokens, bos %s, eos %s, adds bos %s, chat template %s%n",
                    tok.getClass().getSimpleName(), tok.vocabSize(), idText(tok, tok.bosId()), idText(tok, tok.eosId()),
                    tok.addBos(), loaded.chatTemplate().isPresent() ? "yes" : "no");
            if (listTensors) {
                out.print(tensorLines);
            }
            out.flush();
        }
    }

    private static String idText(Tokenizer tok, java.util.OptionalInt id) {
        return id.isPresent() ? id.getAsInt() + " " + tok.tokenText(id.getAsInt()) : "none";
    }
}
