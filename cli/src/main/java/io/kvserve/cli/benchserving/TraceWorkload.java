package io.kvserve.cli.benchserving;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * A replayable trace: JSON lines, one request each, replayed in file order at their timestamps
 * ({@code --arrival trace}) or as fast as a closed loop sends them.
 *
 * <pre>
 *   {"timestamp_ms": 0,    "tenant": "acme", "messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}], "max_tokens": 64}
 *   {"timestamp_ms": 1250, "prompt": "Once upon a time"}
 * </pre>
 *
 * {@code timestamp_ms} (a number >= 0, the request's time from any origin; the run replays the
 * differences) is required; exactly one of {@code messages} (non-empty, each with string {@code role}
 * and {@code content}) and {@code prompt} (a string); {@code tenant} (a string) and
 * {@code max_tokens} (an integer >= 1, else {@code --output-len}) are optional. Blank lines and lines
 * starting with {@code #} are skipped silently. A malformed line is skipped with a message naming the
 * file and line, kept in {@link #skippedLines()} for the report: one bad line in a long real trace
 * should not throw away the rest, and the report says what was left out. A trace with no good line is
 * an error.
 */
final class TraceWorkload implements Workload {

    /** One line of the trace. */
    record Entry(int lineNumber, double timestampMs, String tenant, List<BenchRequest.ChatMessage> messages, String prompt, Integer maxTokens) {
    }

    private final Path file;
    private final int outputLen;
    private final List<Entry> entries;
    private final List<String> skippedLines;

    private TraceWorkload(Path file, int outputLen, List<Entry> entries, List<String> skippedLines) {
        this.file = file;
        this.outputLen = outputLen;
        this.entries = List.copyOf(entries);
        this.skippedLines = List.copyOf(skippedLines);
    }

    static TraceWorkload read(Path file, int outputLen) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--trace " + file + ": no such file");
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Entry> entries = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                entries.add(parse(line, i + 1));
            } catch (IllegalArgumentException e) {
                skipped.add(file + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("--trace " + file + " has no usable line" + (skipped.isEmpty() ? "" : "; first problem: " + skipped.getFirst()));
        }
        return new TraceWorkload(file, outputLen, entries, skipped);
    }

    /** One line; IllegalArgumentException with what is wrong with it. */
    static Entry parse(String line, int lineNumber) {
        JsonNode node;
        try {
            node = StreamDecoder.mapper().readTree(line);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode timestamp = node.get("timestamp_ms");
        if (timestamp == null || !timestamp.isNumber() || timestamp.asDouble() < 0 || !Double.isFinite(timestamp.asDouble())) {
            throw new IllegalArgumentException("\"timestamp_ms\" must be a number >= 0, got " + timestamp);
        }
        JsonNode messagesNode = node.get("messages");
        JsonNode promptNode = node.get("prompt");
        if ((messagesNode == null) == (promptNode == null)) {
            throw new IllegalArgumentException("give exactly one of \"messages\" and \"prompt\"");
        }
        List<BenchRequest.ChatMessage> messages = null;
        String prompt = null;
        if (messagesNode != null) {
            if (!messagesNode.isArray() || messagesNode.isEmpty()) {
                throw new IllegalArgumentException("\"messages\" must be a non-empty array");
            }
            messages = new ArrayList<>();
            for (JsonNode m : messagesNode) {
                if (!m.path("role").isString() || !m.path("content").isString()) {
                    throw new IllegalArgumentException("each message needs a string \"role\" and \"content\", got " + m);
                }
                messages.add(new BenchRequest.ChatMessage(m.get("role").asString(), m.get("content").asString()));
            }
        } else {
            if (!promptNode.isString()) {
                throw new IllegalArgumentException("\"prompt\" must be a string");
            }
            prompt = promptNode.asString();
        }
        JsonNode tenantNode = node.get("tenant");
        if (tenantNode != null && !tenantNode.isNull() && !tenantNode.isString()) {
            throw new IllegalArgumentException("\"tenant\" must be a string");
        }
        JsonNode maxTokensNode = node.get("max_tokens");
        if (maxTokensNode != null && (!maxTokensNode.isIntegralNumber() || maxTokensNode.asInt() < 1)) {
            throw new IllegalArgumentException("\"max_tokens\" must be an integer >= 1, got " + maxTokensNode);
        }
        return new Entry(lineNumber, timestamp.asDouble(), tenantNode == null || tenantNode.isNull() ? null : tenantNode.asString(),
                messages, prompt, maxTokensNode == null ? null : maxTokensNode.asInt());
    }

    @Override
    public String name() {
        return "trace";
    }

    @Override
    public int size() {
        return entries.size();
    }

    List<Entry> entries() {
        return entries;
    }

    /** The malformed lines, as {@code FILE:LINE: what is wrong}. */
    List<String> skippedLines() {
        return skippedLines;
    }

    @Override
    public List<String> tenants() {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        entries.forEach(e -> {
            if (e.tenant() != null) {
                names.add(e.tenant());
            }
        });
        return List.copyOf(names);
    }

    /** Request {@code index}'s time in seconds after request {@code firstIndex}'s. */
    double secondsAfter(int firstIndex, int index) {
        return (entries.get(index).timestampMs() - entries.get(firstIndex).timestampMs()) / 1000;
    }

    @Override
    public BenchRequest request(int index) {
        Entry e = entries.get(index);
        int maxTokens = e.maxTokens() != null ? e.maxTokens() : outputLen;
        if (e.messages() != null) {
            int numWords = 0;
            for (BenchRequest.ChatMessage m : e.messages()) {
                numWords += m.content().split("\\s+").length;
            }
            return BenchRequest.chat(index, e.messages(), numWords, maxTokens, e.tenant());
        }
        return new BenchRequest(index, e.prompt(), null, e.prompt().split("\\s+").length, maxTokens, e.tenant(), null);
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("file", file.toString());
        params.put("num_entries", entries.size());
        params.put("num_skipped_lines", skippedLines.size());
        params.put("skipped_lines", skippedLines);
        params.put("default_max_tokens", outputLen);
        return params;
    }
}
