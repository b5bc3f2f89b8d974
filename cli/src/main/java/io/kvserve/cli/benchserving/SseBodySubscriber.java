package io.kvserve.cli.benchserving;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Reads a streaming body as it arrives: bytes are decoded as UTF-8 (a character cut between two
 * buffers waits for its rest), fed to an {@link SseParser}, and each event goes to the
 * {@link StreamRecorder} stamped with the time its bytes arrived. Completes with the time the body
 * ended.
 */
final class SseBodySubscriber implements HttpResponse.BodySubscriber<Long> {

    private final StreamRecorder recorder;
    private final SseParser parser;
    private final CompletableFuture<Long> endNanos = new CompletableFuture<>();
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(0);
    private long arrivalNanos;
    private volatile Flow.Subscription subscription;

    SseBodySubscriber(StreamRecorder recorder) {
        this.recorder = recorder;
        this.parser = new SseParser(data -> this.recorder.onData(data, arrivalNanos));
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        arrivalNanos = System.nanoTime();
        for (ByteBuffer buffer : buffers) {
            ByteBuffer in = buffer;
            if (pending.hasRemaining()) {
                in = ByteBuffer.allocate(pending.remaining() + buffer.remaining()).put(pending).put(buffer).flip();
            }
            CharBuffer out = CharBuffer.allocate(in.remaining() + 1);
            decoder.decode(in, out, false);
            pending = in.hasRemaining() ? ByteBuffer.allocate(in.remaining()).put(in).flip() : ByteBuffer.allocate(0);
            parser.feed(out.flip());
        }
    }

    @Override
    public void onError(Throwable throwable) {
        endNanos.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
        long now = System.nanoTime();
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 2);
        decoder.decode(pending, out, true);
        decoder.flush(out);
        parser.feed(out.flip());
        parser.finish();
        endNanos.complete(now);
    }

    @Override
    public CompletionStage<Long> getBody() {
        return endNanos;
    }

    /** Stops reading (a timed-out request). */
    void cancel() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }
}
