package io.kvserve.inference.platform;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

class PlatformConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withUserConfiguration(PlatformConfiguration.class);

    @Test
    void redisUrl_unset_noPlatformBeans() {
        runner.run(context -> assertThat(context).doesNotHaveBean(RedisKvEventPublisher.class)
                .doesNotHaveBean(InstanceRegistrar.class).doesNotHaveBean(LettuceConnectionFactory.class));
    }

    @Test
    void redisUrl_empty_countsAsUnset() {
        runner.withPropertyValues("kvserve.redis.url=").run(context -> assertThat(context)
                .hasNotFailed().doesNotHaveBean(RedisKvEventPublisher.class));
    }
}
