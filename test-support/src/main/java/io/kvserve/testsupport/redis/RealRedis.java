package io.kvserve.testsupport.redis;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that needs a real Redis: parameters of type {@link RedisEndpoint} are injected,
 * and the class is skipped (with how to enable it) when {@link RedisFixture} finds none.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RedisExtension.class)
public @interface RealRedis {
}
