package io.kvserve.gateway.quota;

/** The four limits, with the names metrics ({@code limit} tag) and messages use. */
public enum LimitKind {
    RPM("rpm", "requests per min (RPM)", "requests"),
    TPM("tpm", "tokens per min (TPM)", "tokens"),
    CONCURRENCY("concurrency", "concurrent streams", "requests"),
    DAILY("daily", "daily token budget", "insufficient_quota");

    private final String tag;
    private final String description;
    private final String errorType;

    LimitKind(String tag, String description, String errorType) {
        this.tag = tag;
        this.description = description;
        this.errorType = errorType;
    }

    public String tag() {
        return tag;
    }

    public String description() {
        return description;
    }

    /** The OpenAI error {@code type} of a rejection by this limit. */
    public String errorType() {
        return errorType;
    }

    /** The kind numbered as the admit script numbers it (1..4). */
    static LimitKind ofScriptIndex(long index) {
        return values()[(int) index - 1];
    }
}
