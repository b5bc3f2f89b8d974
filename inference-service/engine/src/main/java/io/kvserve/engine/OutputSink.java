package io.kvserve.engine;

/**
 * Receives a request's outputs, in order, on the engine's step-loop thread: it must return quickly
 * and never block (hand the output to a reactive sink or a queue). A sink that throws aborts its own
 * request and no other; it is not called again.
 */
@FunctionalInterface
public interface OutputSink {

    void accept(RequestOutput output);
}
