package dev.stagefarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File locks held by a process, against this JVM and another process (a child JVM), for real. */
class HeldLockTest {
  @TempDir Path dir;

  @Test
  void aSecondTakeInThisJvmIsRefusedWithoutFreeingTheLockForOtherProcesses() throws Exception {
    Path file = dir.resolve("x.lock");
    try (HeldLock held = HeldLock.tryHold(file, "first here").held()) {
      assertThat(held).isNotNull();
      HeldLock.Result again = HeldLock.tryHold(file, "second here");
      assertThat(again.held()).isNull();
      assertThat(again.refusal().holder()).isEqualTo("first here");
      // another path to the same file is the same lock
      Path link = Files.createLink(dir.resolve("link.lock"), file);
      assertThat(HeldLock.tryHold(link, "third here").refusal().holder()).isEqualTo("first here");

      // had the refused takes opened and closed the file, the kernel would have freed the first's lock
      assertThat(probe(file)).isEqualTo("REFUSED by first here");
    }
    assertThat(probe(file)).as("freed by close").isEqualTo("HELD");
    assertThat(HeldLock.tryHold(file, "after").held()).as("the child's lock went with it").isNotNull().satisfies(
        HeldLock::close);
  }

  @Test
  void theHolderLineOfAnotherProcessIsReadBoundedAndWithoutControlCharacters() throws Exception {
    Path file = dir.resolve("y.lock");
    assertThat(probe(file)).isEqualTo("HELD"); // the child wrote its line and exited: the lock is free
    assertThat(Files.readString(file)).startsWith("probe (pid ");

    Files.writeString(file, "evil\u001b[2J holder " + "x".repeat(10_000) + "\nsecond line", StandardCharsets.UTF_8);
    try (HeldLock mine = HeldLock.tryHold(file, "me").held()) {
      assertThat(mine).as("whatever a dead holder wrote, the lock is free").isNotNull();
      assertThat(Files.readString(file)).isEqualTo("me\n");
    }
  }

  @Test
  void aRefusedProcessReadsTheHoldersLineSanitized() throws Exception {
    Path file = dir.resolve("z.lock");
    try (HeldLock held = HeldLock.tryHold(file, "bad\u001b[31m\u0007 holder " + "y".repeat(1_000)).held()) {
      String answer = probe(file);
      assertThat(answer).startsWith("REFUSED by bad[31m holder y").doesNotContain("\u001b", "\u0007");
      assertThat(answer.length()).isLessThan("REFUSED by ".length() + 257);
    }
  }

  @Test
  void aLockFileThatCannotBeMadeIsNamedWithTheReason() {
    Path file = dir.resolve("no-such-dir/x.lock");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HeldLock.tryHold(file, "me"))
        .isInstanceOf(java.io.IOException.class)
        .hasMessage("cannot create the lock file " + file + ": its directory does not exist");
  }

  @Test
  void aSymlinkPlantedAtTheLockPathIsNotFollowed() throws Exception {
    Path victim = Files.writeString(dir.resolve("victim"), "precious");
    Path file = Files.createSymbolicLink(dir.resolve("w.lock"), victim);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HeldLock.tryHold(file, "me"))
        .isInstanceOf(java.io.IOException.class);
    assertThat(victim).hasContent("precious");
    assertThat(HeldLock.tryHold(victim, "other").held()).as("nothing of the failed take stays held").isNotNull()
        .satisfies(HeldLock::close);
  }

  /** What a child JVM's take of {@code file} says. */
  private static String probe(Path file) throws Exception {
    Process child = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), HeldLockProbeMain.class.getName(), file.toString()))
        .redirectErrorStream(true).start();
    String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(child.waitFor()).as(out).isZero();
    return out.lines().reduce((a, b) -> b).orElse("");
  }
}
