package io.kvserve.kvshare.tenant;

import java.util.Objects;

/**
 * Validation of tenant ids and of the other names kvshare puts into Redis keys (published prefix
 * names, model names, instance ids). A tenant id is 1..{@value #MAX_LENGTH} characters of
 * {@code [A-Za-z0-9._:-]}: safe in a key, in a URL path and in a log line without escaping.
 */
public final class TenantIds {

    /** The longest tenant id, in characters. */
    public static final int MAX_LENGTH = 128;

    /** The allowed characters, as a regex class, for messages and docs. */
    public static final String ALLOWED = "[A-Za-z0-9._:-]";

    /** The longest model name or instance id, in characters. */
    public static final int MAX_NAME_LENGTH = 256;

    private TenantIds() {
    }

    /** {@code tenantId} if valid, else an {@link IllegalArgumentException} saying what is wrong. */
    public static String requireValid(String tenantId) {
        return requireIdentifier("tenant id", tenantId);
    }

    /**
     * {@code value} if it is 1..{@value #MAX_LENGTH} characters of {@value #ALLOWED}, else an
     * {@link IllegalArgumentException} that names {@code what}, the first bad character and its index.
     */
    static String requireIdentifier(String what, String value) {
        Objects.requireNonNull(value, what);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty; it must be 1.." + MAX_LENGTH
                    + " characters of " + ALLOWED);
        }
        if (value.length() > MAX_LENGTH) {
            throw new IllegalArgumentException(what + " is " + value.length() + " characters long, at most "
                    + MAX_LENGTH + " allowed (starts with '" + value.substring(0, 16) + "...')");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!isAllowed(c)) {
                throw new IllegalArgumentException(what + " '" + printable(value) + "' has " + describe(c)
                        + " at index " + i + "; only " + ALLOWED + " is allowed");
            }
        }
        return value;
    }

    /**
     * {@code value} if it is 1..{@value #MAX_NAME_LENGTH} characters without whitespace or control
     * characters (model names such as {@code meta-llama/Llama-3.2-1B} have slashes), else an
     * {@link IllegalArgumentException}.
     */
    static String requireName(String what, String value) {
        Objects.requireNonNull(value, what);
        if (value.isEmpty() || value.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException(what + " must be 1.." + MAX_NAME_LENGTH + " characters, got "
                    + value.length());
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c)) {
                throw new IllegalArgumentException(what + " '" + printable(value) + "' has " + describe(c)
                        + " at index " + i + "; whitespace and control characters are not allowed");
            }
        }
        return value;
    }

    private static boolean isAllowed(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '_' || c == ':' || c == '-';
    }

    private static String describe(char c) {
        String code = String.format("U+%04X", (int) c);
        return Character.isISOControl(c) ? code : "'" + c + "' (" + code + ")";
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 64));
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return s.length() > 64 ? b + "..." : b.toString();
    }
}
