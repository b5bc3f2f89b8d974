package io.kvserve.common.openai;

import java.nio.ByteBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.CharBuffer;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.TokenStreamContext;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns a request body into a JSON object tree, or a 400 that says where the body is broken: the
 * byte offset of bad UTF-8, Jackson's line and column for bad JSON (its message, never its class
 * names or a stack), the key of a duplicate, the depth limit for nesting.
 *
 * <p>Reading is strict where Jackson's defaults are lax: a duplicate key would otherwise silently
 * keep the last value, so a gateway and an engine reading the same body could disagree on what was
 * asked. Nesting is capped well below Jackson's default (1000) because no OpenAI request needs more
 * than a handful of levels.
 */
final class JsonBody {

    /** Deepest nesting of arrays and objects a body may have; the deepest real request is ~6. */
    static final int MAX_NESTING_DEPTH = 64;

    private static final JsonMapper READER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .build();

    private JsonBody() {
    }

    /** The body as a JSON object; 400 with a null param when it is not one. */
    static ObjectNode parseObject(byte[] body) {
        if (body == null || body.length == 0) {
            throw OpenAiException.invalidRequest(null, "the request body is empty; expected a JSON object");
        }
        checkUtf8(body);
        JsonNode root;
        try {
            root = READER.readTree(body);
        } catch (StreamConstraintsException e) {
            throw OpenAiException.invalidRequest(null, constraintMessage(e));
        } catch (JacksonException e) {
            String duplicateKeyPath = duplicateKeyPath(e);
            if (duplicateKeyPath != null) {
                throw OpenAiException.invalidRequest(duplicateKeyPath, "the request body gives the key '"
                        + duplicateKeyPath + "' more than once; give each key once" + location(e));
            }
            String original = e.getOriginalMessage();
            if (original != null && original.startsWith("Trailing token")) {
                throw OpenAiException.invalidRequest(null, "the request body has more content after the JSON object"
                        + location(e));
            }
            String hint = original != null && original.startsWith("Non-standard token")
                    ? "; NaN and Infinity are not JSON numbers" : "";
            throw OpenAiException.invalidRequest(null, "the request body is not valid JSON: " + jacksonMessage(e)
                    + hint);
        }
        if (root == null || root.isMissingNode()) {
            throw OpenAiException.invalidRequest(null, "the request body is empty; expected a JSON object");
        }
        if (!root.isObject()) {
            throw OpenAiException.invalidRequest(null, "the request body must be a JSON object, got "
                    + JsonFields.describeType(root));
        }
        checkUnicode(root, "");
        return (ObjectNode) root;
    }

    /**
     * Valid UTF-8 bytes can still carry invalid text: a {@code \\ud800} escape decodes to a lone
     * surrogate, which tokenizers turn into replacement characters or reject deep in the engine.
     * Refuse it here, naming the key or value that holds it.
     */
    private static void checkUnicode(JsonNode node, String path) {
        if (node.isString()) {
            int at = unpairedSurrogateIndex(node.stringValue());
            if (at >= 0) {
                throw OpenAiException.invalidRequest(path.isEmpty() ? null : path, "'" + path
                        + "' contains an unpaired UTF-16 surrogate escape at character " + at
                        + "; text must be valid Unicode");
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                checkUnicode(node.get(i), path + "[" + i + "]");
            }
        } else if (node.isObject()) {
            for (var property : node.properties()) {
                String key = property.getKey();
                String keyPath = path.isEmpty() ? key : path + "." + key;
                if (unpairedSurrogateIndex(key) >= 0) {
                    String where = path.isEmpty() ? "the request body" : "'" + path + "'";
                    throw OpenAiException.invalidRequest(null, "a key in " + where
                            + " contains an unpaired UTF-16 surrogate escape; text must be valid Unicode");
                }
                checkUnicode(property.getValue(), keyPath);
            }
        }
    }

    /** The index of the first surrogate without its partner, or -1. */
    private static int unpairedSurrogateIndex(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    private static void checkUtf8(byte[] body) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        // the text is only checked, not kept: decode through a small window instead of a copy of the body
        CharBuffer window = CharBuffer.allocate(4096);
        CoderResult result;
        do {
            window.clear();
            result = decoder.decode(in, window, true);
        } while (result.isOverflow());
        if (result.isUnderflow()) {
            window.clear();
            result = decoder.flush(window);
        }
        if (result.isError()) {
            throw OpenAiException.invalidRequest(null, "the request body is not valid UTF-8: " + result.length()
                    + " invalid byte(s) at byte offset " + in.position());
        }
    }

    private static String constraintMessage(StreamConstraintsException e) {
        String original = e.getOriginalMessage();
        if (original != null && original.contains("nesting depth")) {
            return "the request body nests arrays and objects deeper than " + MAX_NESTING_DEPTH + " levels"
                    + location(e);
        }
        return "the request body exceeds a parser limit: " + stripJacksonNames(original) + location(e);
    }

    /** Jackson's own message plus where, without its class or feature names. */
    private static String jacksonMessage(JacksonException e) {
        return stripJacksonNames(e.getOriginalMessage()) + location(e);
    }

    private static String location(JacksonException e) {
        TokenStreamLocation where = e.getLocation();
        if (where == null || where.getLineNr() < 0) {
            return "";
        }
        return " (line " + where.getLineNr() + ", column " + where.getColumnNr() + ")";
    }

    /**
     * Jackson appends hints that name its own types ({@code enable `JsonReadFeature.X` to allow},
     * {@code from `StreamReadConstraints.getMaxX()`}, {@code `JsonToken.START_OBJECT`}) and source
     * references; they mean nothing to an API client.
     */
    private static String stripJacksonNames(String message) {
        if (message == null) {
            return "malformed input";
        }
        String stripped = message
                .replaceAll(": enable `[^`]*`[^\\n]*", "")
                .replaceAll(", from `[^`]*`", "")
                .replaceAll("\\s*\\(start marker at \\[[^\\]]*\\]\\)", "")
                .replaceAll("`JsonToken\\.([A-Z_]+)`", "$1")
                .replaceAll("`[^`]*`", "a value");
        int newline = stripped.indexOf('\n');
        return (newline < 0 ? stripped : stripped.substring(0, newline)).strip();
    }

    /** For a duplicate key, its path in the API's spelling ({@code messages[0].role}); else null. */
    private static String duplicateKeyPath(JacksonException e) {
        String original = e.getOriginalMessage();
        if (original == null || !original.startsWith("Duplicate") || !(e.processor() instanceof JsonParser parser)) {
            return null;
        }
        return pathOf(parser.streamReadContext());
    }

    private static String pathOf(TokenStreamContext context) {
        if (context == null || context.inRoot()) {
            return "";
        }
        String parent = pathOf(context.getParent());
        if (context.inArray()) {
            return parent + "[" + context.getCurrentIndex() + "]";
        }
        String name = context.currentName();
        return parent.isEmpty() ? name : parent + "." + name;
    }
}
