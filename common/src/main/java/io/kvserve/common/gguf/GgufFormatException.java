package io.kvserve.common.gguf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A GGUF file is malformed or uses something this reader does not support. The message starts with
 * the file name and says what is wrong and where, e.g.
 * {@code model.gguf: tensor 'blk.0.attn_q.weight' data [offset 1234, 5678 bytes] runs past end of file (4096 bytes)}.
 */
public final class GgufFormatException extends IOException {

    public GgufFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
