package io.kvserve.common.openai;

import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON mapper of the OpenAI wire format: Java records in camelCase are written in the API's
 * snake_case; nulls are written (OpenAI sends {@code "finish_reason": null} and clients expect the key).
 */
public final class OpenAiJson {

    /** Thread-safe; share it. */
    public static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .build();

    private OpenAiJson() {
    }
}
