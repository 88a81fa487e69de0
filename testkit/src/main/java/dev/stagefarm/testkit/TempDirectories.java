package dev.stagefarm.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary directories for fixtures that live as long as the test JVM. */
public final class TempDirectories {

    private TempDirectories() {
    }

    /** Creates a fresh directory under java.io.tmpdir that is deleted when the JVM exits. */
    public static Path createDeletedAtExit(String prefix) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(dir), "delete " + dir));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for test fixtures in "
                    + System.getProperty("java.io.tmpdir"), e);
        }
    }

    /** Deletes a tree; what cannot be deleted stays behind (a leftover temp file is harmless). */
    public static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }
}
