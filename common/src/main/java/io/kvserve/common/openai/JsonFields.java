package io.kvserve.common.openai;

import java.util.Locale;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the fields of one JSON object with the checks the OpenAI API documents, and fails with a
 * 400 whose {@code param} is the field's path in the API's spelling ({@code messages[2].content},
 * {@code request.temperature}) and whose message says what is allowed and what was received.
 *
 * <p>A field that is absent or {@code null} is "not given": the optional readers return null.
 */
final class JsonFields {

    /** Longest part of a received string or number that a message quotes back. */
    private static final int MAX_ECHO_CHARS = 64;

    private final ObjectNode object;
    private final String path;

    /** @param path the object's own path, "" for the body */
    JsonFields(ObjectNode object, String path) {
        this.object = object;
        this.path = path;
    }

    String param(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /** 400 for the first field, in body order, that is not in {@code known} (OpenAI's wording). */
    void rejectUnknown(Set<String> known) {
        for (String name : object.propertyNames()) {
            if (!known.contains(name)) {
                throw OpenAiException.invalidRequest(param(name), "Unrecognized request argument supplied: "
                        + param(name));
            }
        }
    }

    /** The value, or null when the field is absent or JSON null. */
    JsonNode get(String name) {
        JsonNode value = object.get(name);
        return value == null || value.isNull() ? null : value;
    }

    boolean isGiven(String name) {
        return get(name) != null;
    }

    OpenAiException invalid(String name, String message) {
        return OpenAiException.invalidRequest(param(name), message);
    }

    /** 400 "'name' must be {allowed}, got {value}". */
    OpenAiException mustBe(String name, String allowed, JsonNode received) {
        return mustBeAt(param(name), allowed, received);
    }

    /** {@link #mustBe} for a full path, e.g. an array element's {@code stop[3]}. */
    static OpenAiException mustBeAt(String param, String allowed, JsonNode received) {
        return OpenAiException.invalidRequest(param, "'" + param + "' must be " + allowed + ", got "
                + describe(received));
    }

    /** A string, possibly empty; 400 when absent or null. */
    String requiredString(String name) {
        if (get(name) == null) {
            throw invalid(name, "'" + param(name) + "' is required: a string");
        }
        return optionalString(name);
    }

    String requiredNonEmptyString(String name) {
        JsonNode value = get(name);
        if (value == null) {
            throw invalid(name, "'" + param(name) + "' is required: a non-empty string");
        }
        String text = optionalString(name);
        if (text.isEmpty()) {
            throw mustBe(name, "a non-empty string", value);
        }
        return text;
    }

    String optionalString(String name) {
        JsonNode value = get(name);
        if (value == null) {
            return null;
        }
        if (!value.isString()) {
            throw mustBe(name, "a string", value);
        }
        return value.stringValue();
    }

    Boolean optionalBoolean(String name) {
        JsonNode value = get(name);
        if (value == null) {
            return null;
        }
        if (!value.isBoolean()) {
            throw mustBe(name, "a boolean", value);
        }
        return value.booleanValue();
    }

    boolean booleanOr(String name, boolean absent) {
        Boolean value = optionalBoolean(name);
        return value == null ? absent : value;
    }

    /** An integral JSON number in {@code min..max}; 1.5, 1.0 and "1" are refused. */
    Integer optionalInt(String name, int min, int max) {
        JsonNode value = get(name);
        if (value == null) {
            return null;
        }
        return checkedInt(value, min, max, (allowed, received) -> mustBe(name, allowed, received));
    }

    Long optionalLong(String name) {
        JsonNode value = get(name);
        if (value == null) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw mustBe(name, "an integer in " + Long.MIN_VALUE + ".." + Long.MAX_VALUE, value);
        }
        return value.longValue();
    }

    /** A finite JSON number in [min, max], or (min, max] when {@code minExclusive}. */
    Double optionalNumber(String name, double min, boolean minExclusive, double max) {
        JsonNode value = get(name);
        if (value == null) {
            return null;
        }
        return checkedNumber(value, min, minExclusive, max, (allowed, received) -> mustBe(name, allowed, received));
    }

    ObjectNode optionalObject(String name) {
        JsonNode value = get(name);
        if (value == null) {
            return null;
        }
        if (!value.isObject()) {
            throw mustBe(name, "an object", value);
        }
        return (ObjectNode) value;
    }

    ArrayNode optionalArray(String name) {
        JsonNode value = get(name);
        if (value == null) {
            return null;
        }
        if (!value.isArray()) {
            throw mustBe(name, "an array", value);
        }
        return (ArrayNode) value;
    }

    /** Builds the exception for a value that is not allowed: (what is allowed, the value). */
    @FunctionalInterface
    interface Refusal {
        OpenAiException of(String allowed, JsonNode received);
    }

    static int checkedInt(JsonNode value, int min, int max, Refusal refusal) {
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < min
                || value.intValue() > max) {
            boolean aboveInt = value.isIntegralNumber() && !value.canConvertToInt()
                    && value.bigIntegerValue().signum() > 0;
            throw refusal.of("an integer " + (aboveInt ? "in " + min + ".." + max : intRange(min, max)), value);
        }
        return value.intValue();
    }

    static double checkedNumber(JsonNode value, double min, boolean minExclusive, double max, Refusal refusal) {
        double number = value.isNumber() ? value.doubleValue() : Double.NaN;
        boolean aboveMin = minExclusive ? number > min : number >= min;
        if (!value.isNumber() || !Double.isFinite(number) || !aboveMin || number > max) {
            String range = minExclusive
                    ? "in (" + plain(min) + ", " + plain(max) + "]"
                    : "in " + plain(min) + ".." + plain(max);
            throw refusal.of("a number " + range, value);
        }
        return number;
    }

    static String intRange(int min, int max) {
        return max == Integer.MAX_VALUE ? ">= " + min : "in " + min + ".." + max;
    }

    private static String plain(double bound) {
        return bound == Math.rint(bound) ? Long.toString((long) bound) : Double.toString(bound);
    }

    /** The received value as a message quotes it: {@code "hot" (a string)}, {@code 2.5}, {@code an object}. */
    static String describe(JsonNode value) {
        if (value == null || value.isNull()) {
            return "null";
        }
        if (value.isString()) {
            String text = value.stringValue();
            String quoted = value.toString();
            if (text.length() <= MAX_ECHO_CHARS) {
                return quoted + " (a string)";
            }
            return JsonNodeFactory.instance.stringNode(text.substring(0, MAX_ECHO_CHARS)) + "... (a string of "
                    + text.length() + " characters)";
        }
        if (value.isNumber() && !Double.isFinite(value.doubleValue()) && value.isFloatingPointNumber()) {
            return "a number beyond the range of a double";
        }
        if (value.isNumber()) {
            String number = value.toString();
            return number.length() <= MAX_ECHO_CHARS ? number
                    : number.substring(0, MAX_ECHO_CHARS) + "... (a number of " + number.length() + " digits)";
        }
        if (value.isBoolean()) {
            return value.booleanValue() + " (a boolean)";
        }
        return describeType(value);
    }

    /** The kind of value only, for values a message must not echo (secrets) or cannot (containers). */
    static String describeType(JsonNode value) {
        if (value == null || value.isNull()) {
            return "null";
        }
        if (value.isArray()) {
            return "an array of " + value.size() + (value.size() == 1 ? " element" : " elements");
        }
        if (value.isObject()) {
            return "an object";
        }
        if (value.isString()) {
            return "a string";
        }
        if (value.isNumber()) {
            return "a number";
        }
        if (value.isBoolean()) {
            return "a boolean";
        }
        return value.getNodeType().toString().toLowerCase(Locale.ROOT);
    }
}
