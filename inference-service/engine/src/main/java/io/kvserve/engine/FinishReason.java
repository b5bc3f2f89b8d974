package io.kvserve.engine;

/** Why a request's generation ended (OpenAI's {@code finish_reason}, plus ABORT and ERROR). */
public enum FinishReason {
    /** EOS, a stop token id or a stop string. */
    STOP,
    /** max_tokens reached, or the context length (maxModelLen). */
    LENGTH,
    /** Aborted: by {@link LlmEngine#abort}, by the engine closing, or because its sink threw. */
    ABORT,
    /** The step it was in failed (an exception from the model). */
    ERROR
}
