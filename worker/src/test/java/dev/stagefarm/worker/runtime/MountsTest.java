package dev.stagefarm.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Overlay mounts for real (we are root). */
class MountsTest {
  @TempDir Path dir;

  @Test
  void aWritableOverlayIsVolatileSoItsUnmountSyncsNothingAndItsUpperDirKeepsTheWrites() throws Exception {
    Path lower = Files.createDirectories(dir.resolve("l"));
    Files.writeString(lower.resolve("base"), "base");
    Path upper = Files.createDirectories(dir.resolve("u"));
    Path work = Files.createDirectories(dir.resolve("w"));
    Path merged = dir.resolve("m");
    Mounts.overlay(List.of(lower), upper, work, merged, dir.resolve("k"));
    try {
      assertThat(superOptions(merged)).contains("volatile");
      Files.writeString(merged.resolve("written"), "by the op");
    } finally {
      Mounts.unmount(merged);
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    assertThat(upper.resolve("written")).hasContent("by the op");
    assertThat(upper.resolve("base")).doesNotExist();
  }

  @Test
  void aReadOnlyOverlayHasNoUpperDirAndIsNotVolatile() throws Exception {
    Path a = Files.createDirectories(dir.resolve("a"));
    Path b = Files.createDirectories(dir.resolve("b"));
    Files.writeString(b.resolve("f"), "b");
    Path view = dir.resolve("v");
    Mounts.overlay(List.of(a, b), null, null, view, dir.resolve("k"));
    try {
      assertThat(superOptions(view)).doesNotContain("volatile").doesNotContain("upperdir");
      assertThat(view.resolve("f")).hasContent("b");
    } finally {
      Mounts.unmount(view);
    }
  }

  /** The overlay's super options (mountinfo's last field) for the mount at {@code target}. */
  private static String superOptions(Path target) throws Exception {
    String point = target.toAbsolutePath().normalize().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] fields = line.split(" ");
      if (fields[4].equals(point)) {
        return fields[fields.length - 1];
      }
    }
    throw new AssertionError(point + " is not mounted");
  }
}
