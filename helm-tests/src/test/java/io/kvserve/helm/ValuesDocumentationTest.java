package io.kvserve.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * values.yaml documents every value: each key has a {@code # --} comment (helm-docs' convention) right above
 * it, or sits inside a block whose key has one (the children of a documented {@code resources:} example).
 */
class ValuesDocumentationTest {

    private static final Pattern KEY = Pattern.compile("^( *)([A-Za-z0-9_.\"-]+):(.*)$");

    private record Key(int indent, String path, boolean documented) {
    }

    @Test
    void valuesYaml_everyKey_isDocumentedOrInsideADocumentedBlock() throws IOException {
        List<String> lines = Files.readAllLines(RenderedChart.chart().resolve("values.yaml"));
        Deque<Key> parents = new ArrayDeque<>();
        List<String> undocumented = new ArrayList<>();
        boolean commentAbove = false;
        for (String line : lines) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#")) {
                // helm-docs' convention: a value's description starts with "# --"; section prose does not count
                commentAbove |= trimmed.startsWith("# --");
                continue;
            }
            Matcher m = KEY.matcher(line);
            if (trimmed.isEmpty() || trimmed.startsWith("-") || !m.matches()) {
                commentAbove = false;
                continue;
            }
            int indent = m.group(1).length();
            while (!parents.isEmpty() && parents.peek().indent() >= indent) {
                parents.pop();
            }
            boolean inheritsDoc = parents.stream().anyMatch(Key::documented);
            String path = (parents.isEmpty() ? "" : parents.peek().path() + ".") + m.group(2);
            boolean leaf = !m.group(3).isBlank();
            if (leaf && !commentAbove && !inheritsDoc) {
                undocumented.add(path);
            }
            parents.push(new Key(indent, path, commentAbove));
            commentAbove = false;
        }
        assertThat(undocumented).as("values without a comment in values.yaml").isEmpty();
    }
}
