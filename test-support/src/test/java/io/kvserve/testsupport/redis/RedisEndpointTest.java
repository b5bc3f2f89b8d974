package io.kvserve.testsupport.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RedisEndpointTest {

    @Test
    void parse_redisUrl_givesHostAndPort() {
        RedisEndpoint endpoint = RedisEndpoint.parse("redis://10.1.2.3:6380", "test");
        assertThat(endpoint.host()).isEqualTo("10.1.2.3");
        assertThat(endpoint.port()).isEqualTo(6380);
        assertThat(RedisEndpoint.parse("redis://localhost", "test").port()).isEqualTo(6379);
    }

    @Test
    void parse_notARedisUrl_namesTheVariableAndTheExpectedForm() {
        assertThatThrownBy(() -> RedisEndpoint.parse("http://localhost:6379", "KVSERVE_TEST_REDIS_URL"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("KVSERVE_TEST_REDIS_URL")
                .hasMessageContaining("redis://host:port");
    }
}
