package io.kvserve.testsupport.redis;

import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension behind {@link RealRedis}: finds a Redis through {@link RedisFixture}, skips the
 * class with a message that says how to enable it when there is none, and injects
 * {@link RedisEndpoint} parameters.
 */
public final class RedisExtension implements BeforeAllCallback, ParameterResolver {

    @Override
    public void beforeAll(ExtensionContext context) {
        Optional<RedisEndpoint> endpoint = RedisFixture.find();
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
