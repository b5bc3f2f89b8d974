package io.kvserve.common.tokenizer;

/** A tokenizer description that kvserve cannot load: unknown model, unsupported feature, broken data. */
public final class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
