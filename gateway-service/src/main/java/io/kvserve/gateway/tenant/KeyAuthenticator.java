package io.kvserve.gateway.tenant;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import java.util.EnumSet;
import reactor.core.publisher.Mono;

/** TEMPORARY stand-in until the tenancy branch lands. */
public class KeyAuthenticator {
    public Mono<Caller> authenticate(String header) {
        if (header == null || !header.startsWith("Bearer sk-")) {
            return Mono.error(new OpenAiException(401, new OpenAiError("bad key", "invalid_request_error", null,
                    "invalid_api_key"), null));
        }
        return Mono.just(new Caller("demo", "key_1", "demo", EnumSet.allOf(Scope.class), 1));
    }
}
