package io.kvserve.common.model;

import java.util.Optional;

/**
 * Transformer families the engine runs, with the names llama.cpp ({@code general.architecture})
 * and Hugging Face ({@code model_type}) use for them. llama.cpp converts Mistral checkpoints to
 * {@code llama}, so a GGUF file rarely says {@code mistral}.
 */
public enum Architecture {
    LLAMA("llama"),
    QWEN2("qwen2"),
    MISTRAL("mistral");

    private final String fileName;

    Architecture(String fileName) {
        this.fileName = fileName;
    }

    /** The name in GGUF {@code general.architecture} and HF {@code model_type}. */
    public String fileName() {
        return fileName;
    }

    /** The architecture called {@code name} in a model file, if supported. */
    public static Optional<Architecture> fromFileName(String name) {
        for (Architecture a : values()) {
            if (a.fileName.equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
