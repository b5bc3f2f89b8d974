package io.kvserve.common.tokenizer;

/** Token types with GGUF's {@code tokenizer.ggml.token_type} codes (llama.cpp's llama_token_type). */
public enum TokenType {
    UNDEFINED(0), NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

    private final int ggufCode;

    TokenType(int ggufCode) {
        this.ggufCode = ggufCode;
    }

    public int ggufCode() {
        return ggufCode;
    }

    public static TokenType fromGgufCode(int code) {
        return switch (code) {
            case 0 -> UNDEFINED;
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> throw new IllegalArgumentException("unknown GGUF token type " + code + " (expected 0..6)");
        };
    }
}
