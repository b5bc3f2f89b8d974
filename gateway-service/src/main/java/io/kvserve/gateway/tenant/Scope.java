package io.kvserve.gateway.tenant;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/** What an API key may call; a key without explicit scopes has all of them. */
public enum Scope {
    CHAT_COMPLETIONS("chat.completions"),
    COMPLETIONS("completions"),
    MODELS("models");

    private final String wireName;

    Scope(String wireName) {
        this.wireName = wireName;
    }

    /** The name in the admin API and in Redis, e.g. {@code chat.completions}. */
    public String wireName() {
        return wireName;
    }

    /** The scope with this wire name, else an {@link IllegalArgumentException} listing the allowed ones. */
    public static Scope fromWire(String wireName) {
        for (Scope s : values()) {
            if (s.wireName.equals(wireName)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scope '" + wireName + "'; allowed: " + allWireNames());
    }

    /** Every scope, as a new mutable set. */
    public static Set<Scope> all() {
        return EnumSet.allOf(Scope.class);
    }

    /** Comma-separated wire names, as stored in Redis. */
    public static String join(Set<Scope> scopes) {
        return scopes.stream().sorted().map(Scope::wireName).collect(Collectors.joining(","));
    }

    /** The inverse of {@link #join}; empty text is no scope. */
    public static Set<Scope> split(String joined) {
        EnumSet<Scope> scopes = EnumSet.noneOf(Scope.class);
        if (joined != null && !joined.isEmpty()) {
            for (String name : joined.split(",")) {
                scopes.add(fromWire(name));
            }
        }
        return scopes;
    }

    static String allWireNames() {
        return Arrays.stream(values()).map(Scope::wireName).collect(Collectors.joining(", "));
    }
}
