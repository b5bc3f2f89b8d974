package io.kvserve.common.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Reads a file written by the Hugging Face safetensors library; see make_hf_reference.py beside it. */
class SafetensorsReferenceFileTest {

    @Test
    void open_fileWrittenByHfLibrary_readsEveryTensor() throws IOException, URISyntaxException {
        Path p = Path.of(getClass().getResource("hf-reference.safetensors").toURI());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.metadata()).containsExactly(java.util.Map.entry("format", "pt"));
            assertThat(f.tensors().keySet()).containsExactlyInAnyOrder("model.embed_tokens.weight", "model.norm.weight",
                    "ids", "scalar");
            SafetensorsTensor emb = f.tensor("model.embed_tokens.weight").orElseThrow();
            assertThat(emb.shape()).containsExactly(3, 4);
            float[] x = f.toFloatArray("model.embed_tokens.weight");
            for (int i = 0; i < 12; i++) {
                assertThat(x[i]).isEqualTo((i - 6) / 4f);
            }
            assertThat(f.toFloatArray("model.norm.weight")).containsExactly(-1.5f, -1.25f, -1f, -0.75f);
            assertThat(f.tensor("scalar").orElseThrow().shape()).isEmpty();
            assertThat(f.toFloatArray("scalar")).containsExactly(2.5f);
            var ids = f.data(f.tensor("ids").orElseThrow());
            var le = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertThat(ids.get(le, 0)).isEqualTo(1L);
            assertThat(ids.get(le, 8)).isEqualTo(-2L);
        }
    }
}
