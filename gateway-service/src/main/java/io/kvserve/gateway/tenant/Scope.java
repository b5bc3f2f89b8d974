package io.kvserve.gateway.tenant;

/** TEMPORARY stand-in until the tenancy branch lands. */
public enum Scope {
    CHAT_COMPLETIONS, COMPLETIONS, MODELS;

    public String wireName() {
        return name().toLowerCase();
    }
}
