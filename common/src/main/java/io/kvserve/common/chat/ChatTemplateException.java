package io.kvserve.common.chat;

/** A chat template that does not parse, or that failed or raised while rendering; the message says which. */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
