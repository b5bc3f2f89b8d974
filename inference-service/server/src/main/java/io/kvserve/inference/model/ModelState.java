package io.kvserve.inference.model;

/** Where the instance's model is in its life; readiness is UP in {@link #READY} only. */
public enum ModelState {
    /** The server answers, the model is still loading: API calls get 503. */
    LOADING,
    /** Serving. */
    READY,
    /** Shutting down: new requests get 503, those in flight finish or are aborted at the drain timeout. */
    DRAINING,
    /** Closed. */
    STOPPED,
    /** Loading failed; the cause is logged and in the health details. */
    FAILED
}
