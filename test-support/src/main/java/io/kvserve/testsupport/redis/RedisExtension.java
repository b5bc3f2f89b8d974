package io.kvserve.testsupport.redis;

import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension behind {@link RealRedis}: finds a Redis through {@link RedisFixture}, skips the
 * class with a message that says how to enable it when there is none (fails it instead when
 * {@value #REQUIRED_VARIABLE} is set), and injects
 * {@link RedisEndpoint} parameters.
 */
public final class RedisExtension implements BeforeAllCallback, ParameterResolver {

    /** Set (to anything) where skipping is not acceptable, as in CI: no Redis then fails the class. */
    public static final String REQUIRED_VARIABLE = "KVSERVE_TEST_REDIS_REQUIRED";

    @Override
    public void beforeAll(ExtensionContext context) {
        Optional<RedisEndpoint> endpoint = RedisFixture.find();
        if (endpoint.isEmpty() && System.getenv(REQUIRED_VARIABLE) != null) {
            throw new IllegalStateException(REQUIRED_VARIABLE + " is set: " + RedisFixture.whyUnavailable());
        }
        Assumptions.assumeTrue(endpoint.isPresent(), RedisFixture::whyUnavailable);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == RedisEndpoint.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return RedisFixture.find().orElseThrow(() -> new IllegalStateException(RedisFixture.whyUnavailable()));
    }
}
