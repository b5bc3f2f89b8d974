package io.kvserve.common.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/** Read-only memory maps of model files, through the FFM API (so files over 2 GiB work). */
public final class MappedFiles {

    private MappedFiles() {
    }

    /** Parses a mapped file into whatever owns the mapping from then on. */
    @FunctionalInterface
    public interface Parser<T> {
        T parse(Path path, Arena arena, MemorySegment file) throws IOException;
    }

    /**
     * Maps {@code path} read-only in a new shared arena and hands it to {@code parser}; the arena is
     * closed (the file unmapped) if parsing fails, and is the parser's result's to close otherwise.
     */
    public static <T> T mapReadOnly(Path path, Parser<T> parser) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            }
            return parser.parse(path, arena, file);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Closes {@code arena} (unmapping the file) the first time this is called with {@code closed};
     * later calls do nothing. If the arena cannot close yet (a segment is in use on another thread)
     * the flag is reset and the exception thrown, so a later close may succeed.
     */
    public static void closeOnce(AtomicBoolean closed, Arena arena) {
        if (closed.compareAndSet(false, true)) {
            try {
                arena.close();
            } catch (RuntimeException e) {
                closed.set(false);
                throw e;
            }
        }
    }
}
