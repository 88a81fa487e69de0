package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The note the launcher's AOT recording reads ({@code scripts/aot-cache.sh}): written on a task, only when asked. */
class AotRecordingNoteTest {
  @TempDir Path dir;

  @Test
  void theFirstTaskWritesTheFileTheLauncherNamed() throws Exception {
    Path note = dir.resolve("app.aot.123.note");
    Runnable task = AotRecordingNote.of(Map.of(AotRecordingNote.VARIABLE, note.toString()));
    assertThat(note).doesNotExist();

    task.run();
    assertThat(note).isNotEmptyFile();
    Files.delete(note);
    task.run(); // once: later tasks do not write it again
    assertThat(note).doesNotExist();
  }

  @Test
  void withoutTheVariableNothingIsWritten() throws Exception {
    AotRecordingNote.of(Map.of()).run();
    AotRecordingNote.of(Map.of(AotRecordingNote.VARIABLE, "")).run();
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void aNoteThatCannotBeWrittenDoesNotFailTheTask() {
    Runnable task = AotRecordingNote.of(Map.of(AotRecordingNote.VARIABLE, dir.resolve("no/such/dir/note").toString()));
    task.run(); // the launcher takes the recording for a partial one; the build goes on
    assertThat(dir.resolve("no")).doesNotExist();
  }
}
