package io.kvserve.common.chat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One chat turn as templates see it: {@code message.role}, {@code message['content']}, plus any
 * extra fields a template may test for ({@code tool_calls}, {@code name}).
 *
 * @param role    "system", "user", "assistant", "tool", ...
 * @param content the text; may be null for assistant turns that only call tools
 * @param extra   further fields, exposed to the template as they are (maps, lists, strings, numbers)
 */
public record ChatMessage(String role, String content, Map<String, Object> extra) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        extra = extra == null ? Map.of() : Map.copyOf(extra);
    }

    public ChatMessage(String role, String content) {
        this(role, content, Map.of());
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** The message as the template's dict: role, content, then the extra fields. */
    Map<String, Object> toTemplateMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", role);
        map.put("content", content);
        map.putAll(extra);
        return map;
    }
}
