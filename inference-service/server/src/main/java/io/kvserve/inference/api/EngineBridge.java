package io.kvserve.inference.api;

import io.kvserve.engine.EngineRequest;
import io.kvserve.engine.LlmEngine;
import io.kvserve.engine.RequestOutput;
import io.kvserve.inference.metrics.RequestObserver;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The one crossing between the reactive web layer and the engine's step loop: a request goes in
 * through {@link LlmEngine#submit}, its outputs come back through a per-request unicast sink
 * (emitted on the engine thread, never blocking it), and a cancelled subscription aborts the
 * request in the engine, which frees its blocks at its next step.
 *
 * <pre>
 *   subscribe -&gt; engine.submit(request, sink)      (refusals throw here: 400 / 429, nothing queued)
 *   engine thread: output -&gt; sink.tryEmitNext      (failed: the client is gone, abort it)
 *   client gone  -&gt; cancel -&gt; engine.abort(id)
 * </pre>
 */
final class EngineBridge {

    private EngineBridge() {
    }

    /**
     * The outputs of {@code requests} (the choices of one API call), submitted together at
     * subscription: either all are queued or none (a refusal aborts those already queued and
     * errors the flux). Each flux completes after its request's final output.
     */
    static List<Flux<RequestOutput>> submitAll(LlmEngine engine, List<EngineRequest> requests, RequestObserver observer) {
        List<Flux<RequestOutput>> streams = new ArrayList<>(requests.size());
        List<String> submitted = new ArrayList<>(requests.size());
        try {
            for (EngineRequest request : requests) {
                Sinks.Many<RequestOutput> sink = Sinks.many().unicast().onBackpressureBuffer();
                RequestObserver.Tracker tracker = observer.track(request);
                engine.submit(request, output -> {
                    tracker.onOutput(output);
                    if (sink.tryEmitNext(output).isFailure()) {
                        // the client is gone: the cancel has already asked for an abort; ask again in case
                        // the sink failed otherwise, and drop the output
                        engine.abort(request.requestId());
                        return;
                    }
                    if (output.finished()) {
                        sink.tryEmitComplete();
                    }
                });
                submitted.add(request.requestId());
                String id = request.requestId();
                streams.add(sink.asFlux().doOnCancel(() -> engine.abort(id)));
            }
        } catch (RuntimeException e) {
            submitted.forEach(engine::abort);
            throw e;
        }
        return streams;
    }
}
