package io.kvserve.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;

class RateLimitHeadersTest {

    @Test
    void format_durations_asOpenAiWritesThem() {
        assertThat(RateLimitHeaders.format(Duration.ZERO)).isEqualTo("0s");
        assertThat(RateLimitHeaders.format(Duration.ofMillis(120))).isEqualTo("120ms");
        assertThat(RateLimitHeaders.format(Duration.ofSeconds(1))).isEqualTo("1s");
        assertThat(RateLimitHeaders.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(RateLimitHeaders.format(Duration.ofMillis(1234))).isEqualTo("1.234s");
        assertThat(RateLimitHeaders.format(Duration.ofMinutes(6))).isEqualTo("6m0s");
        assertThat(RateLimitHeaders.format(Duration.ofSeconds(3723))).isEqualTo("1h2m3s");
        assertThat(RateLimitHeaders.format(Duration.ofHours(1))).isEqualTo("1h0m0s");
    }

    @Test
    void applyTo_onlyRequestsSet_writesOnlyTheRequestHeaders() {
        HttpHeaders headers = new HttpHeaders();

        new RateLimitHeaders(3L, 2L, Duration.ofSeconds(20), null, null, null).applyTo(headers);

        assertThat(headers.toSingleValueMap()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
                "x-ratelimit-limit-requests", "3", "x-ratelimit-remaining-requests", "2",
                "x-ratelimit-reset-requests", "20s"));
    }

    @Test
    void applyTo_none_writesNothing() {
        HttpHeaders headers = new HttpHeaders();
        RateLimitHeaders.NONE.applyTo(headers);
        assertThat(headers.isEmpty()).isTrue();
    }
}
