package io.kvserve.helm;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RenderDumpTest {
    @Test
    void dump() throws Exception {
        String values = System.getProperty("dump.values");
        java.nio.file.Files.writeString(java.nio.file.Path.of("target/dump.yaml"),
                RenderedChart.render(values == null || values.isEmpty() ? null : values, Map.of()).manifest());
    }
}
