package io.kvserve.web;

import io.kvserve.common.openai.OpenAiException;
import java.util.function.Supplier;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.web.reactive.function.BodyExtractors;
import org.springframework.web.reactive.function.server.ServerRequest;
import reactor.core.publisher.Mono;

/**
 * A request body read whole, but never more than a limit: a {@code Content-Length} over it is
 * refused before a byte is read, and a body that grows past it (chunked) is refused as soon as it
 * does, its buffers released. Every service of the platform reads its JSON bodies this way.
 */
public final class RequestBodies {

    private RequestBodies() {
    }

    /** The body's bytes (empty for none); past {@code maxBytes}, OpenAI's 413. */
    public static Mono<byte[]> bytes(ServerRequest request, int maxBytes) {
        return bytes(request, maxBytes, () -> OpenAiException.tooLarge(maxBytes));
    }

    /** The body's bytes (empty for none); past {@code maxBytes}, the error {@code tooLarge} makes. */
    public static Mono<byte[]> bytes(ServerRequest request, int maxBytes, Supplier<? extends RuntimeException> tooLarge) {
        if (request.headers().contentLength().orElse(-1) > maxBytes) {
            return Mono.error(tooLarge.get());
        }
        return DataBufferUtils.join(request.body(BodyExtractors.toDataBuffers()), maxBytes)
                .map(buffer -> {
                    try {
                        byte[] bytes = new byte[buffer.readableByteCount()];
                        buffer.read(bytes);
                        return bytes;
                    } finally {
                        DataBufferUtils.release(buffer);
                    }
                })
                .defaultIfEmpty(new byte[0])
                .onErrorMap(DataBufferLimitException.class, e -> tooLarge.get());
    }
}
