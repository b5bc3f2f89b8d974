package io.kvserve.common.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file or HF model directory is malformed; the message starts with the file. */
public final class SafetensorsFormatException extends IOException {

    public SafetensorsFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
