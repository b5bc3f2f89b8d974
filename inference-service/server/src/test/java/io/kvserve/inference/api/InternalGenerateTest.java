package io.kvserve.inference.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.inference.ServerTestBase;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

/**
 * The gateway's endpoint: pre-tokenized prompts under a tenant's salt. The prefix cache is shared
 * within a tenant and never across tenants, and the salt never comes back.
 */
class InternalGenerateTest extends ServerTestBase {

    private static final Random RANDOM = new Random(7);

    private static String salt() {
        byte[] salt = new byte[32];
        RANDOM.nextBytes(salt);
        return Base64.getEncoder().encodeToString(salt);
    }

    private static String promptIds(int numTokens, int seed) {
        Random random = new Random(seed);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < numTokens; i++) {
            ids.add(Integer.toString(3 + random.nextInt(1000)));
        }
        return "[" + String.join(",", ids) + "]";
    }

    private String call(String tenant, String salt, String ids, boolean stream) {
        String body = """
                {"api":"completions","tenant_id":"%s","cache_salt":"%s","prompt_token_ids":%s,
                 "request":{"model":"tiny","prompt":"ignored by the instance: the ids are the prompt","max_tokens":3,
                            "temperature":0,"stream":%s%s}}"""
                .formatted(tenant, salt, ids, stream, stream ? ",\"stream_options\":{\"include_usage\":true}" : "");
        byte[] response = web.post().uri("/internal/v1/generate").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body).exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody();
        return new String(response, StandardCharsets.UTF_8);
    }

    private static int cachedTokens(String json) {
        return OpenAiJson.MAPPER.readTree(json).get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
    }

    @Test
    void sameTenant_reusesThePrefix_otherTenant_doesNot() {
        String ids = promptIds(80, 1); // 5 full blocks of 16
        String saltA = salt();
        String saltB = salt();

        int coldA = cachedTokens(call("tenant-a", saltA, ids, false));
        int warmA = cachedTokens(call("tenant-a", saltA, ids, false));
        int coldB = cachedTokens(call("tenant-b", saltB, ids, false));

        assertThat(coldA).isZero();
        assertThat(warmA).as("tenant a's second call hits its own blocks").isEqualTo(64); // 4 full blocks; the last token is recomputed
        assertThat(coldB).as("same tokens, other tenant's salt: no hit").isZero();
    }

    @Test
    void response_neverContainsTheSalt_andStreamsTheSameChunks() {
        String salt = salt();
        String streamed = call("tenant-c", salt, promptIds(20, 2), true);
        String whole = call("tenant-c", salt, promptIds(20, 2), false);

        assertThat(streamed).doesNotContain(salt).contains("\"object\":\"text_completion\"").endsWith("data: [DONE]\n\n");
        assertThat(whole).doesNotContain(salt);
        JsonNode completion = OpenAiJson.MAPPER.readTree(whole);
        assertThat(completion.get("usage").get("prompt_tokens").asInt()).isEqualTo(20);
    }

    @Test
    void shortSalt_is400WithoutEchoingIt() {
        String shortSalt = Base64.getEncoder().encodeToString("tooshort".getBytes(StandardCharsets.US_ASCII));
        byte[] response = web.post().uri("/internal/v1/generate").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"api\":\"completions\",\"tenant_id\":\"t\",\"cache_salt\":\"" + shortSalt
                        + "\",\"prompt_token_ids\":[1,2,3],\"request\":{\"model\":\"tiny\",\"prompt\":\"x\"}}")
                .exchange().expectStatus().isBadRequest().expectBody().returnResult().getResponseBody();
        String text = new String(response, StandardCharsets.UTF_8);
        assertThat(text).contains("cache_salt").doesNotContain(shortSalt);
    }
}
