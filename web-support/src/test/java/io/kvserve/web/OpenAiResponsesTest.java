package io.kvserve.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class OpenAiResponsesTest {

    @Test
    void retryAfter_roundsUpToWholeSeconds_atLeastOne() {
        assertThat(OpenAiResponses.retryAfterSeconds(Duration.ofMillis(1))).isEqualTo("1");
        assertThat(OpenAiResponses.retryAfterSeconds(Duration.ofMillis(1500))).isEqualTo("2");
        assertThat(OpenAiResponses.retryAfterSeconds(Duration.ofSeconds(20))).isEqualTo("20");
    }

    @Test
    void body_isTheOpenAiErrorObject() {
        String body = new String(OpenAiResponses.body(OpenAiException.invalidRequest("model", "no such model").error()));
        assertThat(body).isEqualTo("{\"error\":{\"message\":\"no such model\",\"type\":\"invalid_request_error\","
                + "\"param\":\"model\",\"code\":null}}");
    }
}
