package io.kvserve.inference.platform;

import io.kvserve.inference.config.EngineProperties;
import io.kvserve.inference.config.InstanceProperties;
import io.kvserve.inference.config.RedisProperties;
import io.kvserve.inference.model.ModelHost;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.connection.RedisPassword;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.util.StringUtils;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * The platform side of an instance, only when {@code kvserve.redis.url} is set: the KV event
 * publisher (the engine's {@code KvEventListener}), the registrar and the re-announce subscription,
 * over one Lettuce connection factory built from the URL (Boot's Redis auto-configuration is not on
 * the classpath). Key layout: {@code docs/redis-schema.md}. An empty {@code kvserve.redis.url} (say
 * {@code KVSERVE_REDIS_URL=} in a compose file) counts as unset.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "kvserve.redis", name = "url")
@Conditional(PlatformConfiguration.RedisUrlNotBlank.class)
public class PlatformConfiguration {

    /**
     * Phase of the platform beans: they start before the model host (the epoch's reset entry is the
     * stream's first) and stop after it has drained (its last KV events and the draining status go
     * out), but within the web server's graceful shutdown. The connection factory sits below them.
     */
    static final int PLATFORM_PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);

    @Bean
    LettuceConnectionFactory kvserveRedisConnectionFactory(RedisProperties redis) {
        RedisURI uri = RedisURI.create(redis.url());
        RedisStandaloneConfiguration standalone = new RedisStandaloneConfiguration(uri.getHost(), uri.getPort());
        standalone.setDatabase(uri.getDatabase());
        String userInfo = java.net.URI.create(redis.url()).getUserInfo(); // [user]:password
        if (userInfo != null && !userInfo.isEmpty()) {
            int colon = userInfo.indexOf(':');
            if (colon < 0) {
                standalone.setPassword(RedisPassword.of(userInfo));
            } else {
                if (colon > 0) {
                    standalone.setUsername(userInfo.substring(0, colon));
                }
                standalone.setPassword(RedisPassword.of(userInfo.substring(colon + 1)));
            }
        }
        LettuceClientConfiguration.LettuceClientConfigurationBuilder client = LettuceClientConfiguration.builder()
                .commandTimeout(COMMAND_TIMEOUT)
                // fail at once while disconnected instead of queueing: callers retry on their own schedule
                .clientOptions(ClientOptions.builder()
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
        if (uri.isSsl()) {
            client.useSsl();
        }
        LettuceConnectionFactory factory = new LettuceConnectionFactory(standalone, client.build());
        factory.setPhase(PLATFORM_PHASE - 512);
        return factory;
    }

    @Bean
    StringRedisTemplate kvserveRedisTemplate(LettuceConnectionFactory connectionFactory) {
        return new StringRedisTemplate(connectionFactory);
    }

    @Bean
    InstanceIdentity instanceIdentity(InstanceProperties instance, Environment environment) {
        return new InstanceIdentity(instance, () -> environment.getProperty("local.server.port", Integer.class,
                environment.getProperty("server.port", Integer.class, 8080)));
    }

    @Bean
    RedisKvEventPublisher redisKvEventPublisher(StringRedisTemplate redis, RedisProperties properties,
                                                InstanceIdentity identity, EngineProperties engine,
                                                ObjectProvider<ModelHost> modelHost,
                                                ObjectProvider<MeterRegistry> meters) {
        Runnable reannouncer = () -> modelHost.getObject().served()
                .ifPresent(model -> model.engine().reannounceKvCache());
        return new RedisKvEventPublisher(new RedisStreamWriter(redis, properties.kvEventStream(),
                properties.kvEventStreamMaxLen()), identity::id, identity.epoch(), engine.modelName(),
                1 << 18, 256, 1024, Duration.ofMillis(50), reannouncer, meters.getIfAvailable(),
                System::currentTimeMillis);
    }

    @Bean
    InstanceRegistrar instanceRegistrar(StringRedisTemplate redis, InstanceIdentity identity,
                                        InstanceProperties instance, ObjectProvider<ModelHost> modelHost) {
        return new InstanceRegistrar(redis, identity, instance, modelHost::getObject, System::currentTimeMillis);
    }

    @Bean
    ReannounceSubscription reannounceSubscription(LettuceConnectionFactory connectionFactory,
                                                  InstanceIdentity identity, RedisKvEventPublisher publisher) {
        return new ReannounceSubscription(connectionFactory, identity, publisher);
    }

    /** {@code kvserve.redis.url} has text: {@code @ConditionalOnProperty} alone also matches an empty value. */
    static final class RedisUrlNotBlank implements Condition {
        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return StringUtils.hasText(context.getEnvironment().getProperty("kvserve.redis.url"));
        }
    }
}
