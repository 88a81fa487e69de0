package dev.stagefarm.cli.farm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tells the launcher that the one-shot farm ran a task while the launcher records this JVM for its AOT cache
 * ({@code scripts/aot-cache.sh}: it names the file in {@value #VARIABLE}): a recording of a run that ran none has
 * neither the workers' nor a RUN's classes and profiles, and the launcher records a later run again. Without the
 * variable (every run but a recording one) it does nothing.
 */
final class AotRecordingNote implements Runnable {
  static final String VARIABLE = "STAGEFARM_AOT_NOTE";
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AotRecordingNote.class);

  private final Path file;
  private final AtomicBoolean written = new AtomicBoolean();

  private AotRecordingNote(Path file) {
    this.file = file;
  }

  /** The note for {@code environment}'s {@value #VARIABLE}; a no-op without it. */
  static Runnable of(java.util.Map<String, String> environment) {
    String named = environment.get(VARIABLE);
    return named == null || named.isEmpty() ? () -> {} : new AotRecordingNote(Path.of(named));
  }

  /** A task was published: the first one writes the note. */
  @Override
  public void run() {
    if (written.compareAndSet(false, true)) {
      try {
        Files.writeString(file, "ran a task\n");
      } catch (IOException | RuntimeException e) {
        // the launcher then takes the recording for a partial one: records another run, nothing worse
        log.debug("writing the AOT recording note {} failed: {}", file, e.toString());
      }
    }
  }
}
