package io.kvserve.cli.benchserving;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns the data of one SSE event into what it means: {@code [DONE]}, an error object, text, usage.
 * Chat chunks ({@code chat.completion.chunk}) carry text in {@code choices[i].delta.content},
 * completion chunks ({@code text_completion}) in {@code choices[i].text}; the usage chunk has empty
 * {@code choices} and {@code usage.prompt_tokens/completion_tokens}. One event may mean two things
 * (text and usage in one chunk), hence a list.
 */
final class StreamDecoder {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private StreamDecoder() {
    }

    static List<StreamEvent> decode(String data) {
        String trimmed = data.strip();
        if (trimmed.equals("[DONE]")) {
            return List.of(new StreamEvent.Done());
        }
        JsonNode chunk;
        try {
            chunk = MAPPER.readTree(trimmed);
        } catch (JacksonException e) {
            return List.of(new StreamEvent.Malformed(data));
        }
        if (chunk == null || !chunk.isObject()) {
            return List.of(new StreamEvent.Malformed(data));
        }
        JsonNode error = chunk.get("error");
        if (error != null && !error.isNull()) {
            return List.of(errorOf(error));
        }
        List<StreamEvent> events = new ArrayList<>(2);
        JsonNode choices = chunk.get("choices");
        if (choices != null && choices.isArray() && !choices.isEmpty()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode choice : choices) {
                JsonNode delta = choice.get("delta");
                JsonNode piece = delta != null ? delta.get("content") : choice.get("text");
                if (piece != null && piece.isString()) {
                    text.append(piece.asString());
                }
            }
            events.add(new StreamEvent.Content(text.toString()));
        }
        JsonNode usage = chunk.get("usage");
        if (usage != null && usage.isObject()) {
            JsonNode cached = usage.path("prompt_tokens_details").path("cached_tokens");
            events.add(new StreamEvent.Usage(usage.path("prompt_tokens").asInt(0), usage.path("completion_tokens").asInt(0),
                    cached.isNumber() ? cached.asInt() : -1));
        }
        return events.isEmpty() ? List.of(new StreamEvent.Malformed(data)) : events;
    }

    /** An OpenAI error object ({@code {"message":..,"type":..}}), or a bare string some servers send. */
    static StreamEvent.Error errorOf(JsonNode error) {
        if (error.isString()) {
            return new StreamEvent.Error("error", error.asString());
        }
        String type = error.path("type").isString() ? error.path("type").asString() : "error";
        String message = error.path("message").isString() ? error.path("message").asString() : error.toString();
        return new StreamEvent.Error(type, message);
    }

    /** The {@code error.type} of an HTTP error body, or null when the body is not an OpenAI error. */
    static StreamEvent.Error errorOfBody(String body) {
        try {
            JsonNode node = MAPPER.readTree(body);
            JsonNode error = node == null ? null : node.get("error");
            return error == null || error.isNull() ? null : errorOf(error);
        } catch (JacksonException e) {
            return null;
        }
    }

    static JsonMapper mapper() {
        return MAPPER;
    }
}
