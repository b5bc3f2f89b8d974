package io.kvserve.common.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;

/** Request bodies written with single quotes for readability, and the refusal a parse must end in. */
final class Bodies {

    private Bodies() {
    }

    /** The body with every {@code '} turned into {@code "}, as UTF-8. */
    static byte[] json(String singleQuoted) {
        return singleQuoted.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    /** The 400 that {@code parse} throws; fails the test when it returns or throws anything else. */
    static OpenAiError rejected(Runnable parse) {
        try {
            parse.run();
        } catch (OpenAiException e) {
            assertThat(e.status()).as("status of: %s", e.getMessage()).isEqualTo(400);
            assertThat(e.error().type()).isEqualTo("invalid_request_error");
            return e.error();
        }
        return fail("expected a 400 OpenAiException, but the body was accepted");
    }
}
