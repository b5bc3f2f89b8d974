package io.kvserve.inference.metrics;

import io.kvserve.engine.EngineRequest;
import io.kvserve.engine.RequestOutput;

/** Watches requests as their outputs come out of the engine (metrics). */
public interface RequestObserver {

    RequestObserver NONE = request -> output -> { };

    /** Called once per request at submission, on the caller's thread. */
    Tracker track(EngineRequest request);

    /** One request's outputs, called on the engine thread: must be quick and never block. */
    @FunctionalInterface
    interface Tracker {
        void onOutput(RequestOutput output);
    }
}
