package io.kvserve.gateway.tenant;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * A Lua script run by its SHA1 ({@code EVALSHA}); on {@code NOSCRIPT} (first use, or Redis restarted)
 * it is sent once with {@code EVAL}, which caches it again. Non-blocking (Lettuce's async API).
 */
public final class RedisScript {

    private static final String[] NO_KEYS = new String[0];

    private final String source;
    private final String sha;

    public RedisScript(String source) {
        this.source = source;
        try {
            this.sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(source.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every JDK", e);
        }
    }

    /**
     * Runs the script with {@code args} (keys are built inside the scripts from the prefix) on the connection
     * {@code connection} gives at subscription (it may throw while Redis has never been reached).
     */
    public <T> Mono<T> run(Supplier<StatefulRedisConnection<String, String>> connection, ScriptOutputType type,
                           String... args) {
        return Mono.<T>defer(() -> Mono.fromCompletionStage(connection.get().async().<T>evalsha(sha, type, NO_KEYS, args)))
                .onErrorResume(RedisNoScriptException.class, e -> Mono.defer(() ->
                        Mono.fromCompletionStage(connection.get().async().<T>eval(source, type, NO_KEYS, args))));
    }
}
