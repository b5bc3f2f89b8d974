package io.kvserve.common.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.gguf.GgufFile;
import io.kvserve.common.gguf.GgufWriter;
import io.kvserve.common.safetensors.SafetensorsDtype;
import io.kvserve.common.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    private static final int ROW_LENGTH = 64;

    private static GgufWriter ggufFailingAtRow(long failingRow) {
        return new GgufWriter().putString("general.architecture", "llama")
                .addTensor("t", GgmlType.F32, new long[] {ROW_LENGTH, 8}, (row, dst) -> {
                    if (row == failingRow) {
                        throw new IllegalStateException("interrupted at row " + row);
                    }
                    java.util.Arrays.fill(dst, row);
                });
    }

    @Test
    void ggufWrite_failsMidway_leavesNoFileAndNoTemporary() throws Exception {
        Path target = dir.resolve("model.gguf");
        assertThatThrownBy(() -> ggufFailingAtRow(5).write(target)).hasMessageContaining("row 5");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void ggufWrite_failsMidway_keepsTheOldFileWhole() throws Exception {
        Path target = dir.resolve("model.gguf");
        ggufFailingAtRow(-1).write(target);
        long size = Files.size(target);
        assertThatThrownBy(() -> ggufFailingAtRow(3).write(target)).isInstanceOf(IllegalStateException.class);
        assertThat(Files.size(target)).isEqualTo(size);
        try (GgufFile file = GgufFile.open(target)) {
            assertThat(file.dequantizeAll("t")[7 * ROW_LENGTH]).isEqualTo(7f);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(target);
        }
    }

    @Test
    void safetensorsWrite_failsMidway_leavesNoFile() {
        Path target = dir.resolve("model.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter().addTensor("w", SafetensorsDtype.F32, new long[] {4, ROW_LENGTH},
                (row, dst) -> {
                    throw new IllegalStateException("disk full");
                });
        assertThatThrownBy(() -> writer.write(target)).hasMessageContaining("disk full");
        assertThat(dir.toFile().list()).isEmpty();
    }
}
