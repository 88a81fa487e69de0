package dev.stagefarm.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker's mounts made with system calls, for real (we are root): the same mounts the tools made. */
class NativeMountsTest {
  @TempDir Path dir;

  @AfterEach
  void nothingLeftMounted() throws IOException {
    for (Path p : Mounts.mountPointsUnder(dir)) {
      Mounts.unmount(p);
    }
  }

  @Test
  void thisHostMountsWithSystemCallsNotProcesses() {
    assertThat(Mounts.means()).isEqualTo("mount(2) and umount2(2) through JNA");
  }

  @Test
  void anOverlayOfMoreLowersThanAbsolutePathsFitInAPageMountsAndTheJvmsWorkingDirectoryStays() throws Exception {
    Path cwd = Files.readSymbolicLink(Path.of("/proc/thread-self/cwd"));
    List<Path> lowers = new ArrayList<>();
    for (int i = 0; i < 150; i++) { // 150 × ~90 bytes of absolute path: far over the 4096 bytes of options
      Path lower = Files.createDirectories(dir.resolve("lowers-with-a-long-name-to-fill-the-page").resolve("l" + i));
      Files.writeString(lower.resolve("f" + i), "layer " + i);
      Files.writeString(lower.resolve("shadowed"), "from " + i);
      lowers.add(lower);
    }
    Path upper = Files.createDirectories(dir.resolve("u"));
    Path work = Files.createDirectories(dir.resolve("w"));
    Path merged = dir.resolve("m");

    Mounts.overlay(lowers, upper, work, merged, dir.resolve("k"));

    assertThat(merged.resolve("f0")).hasContent("layer 0");
    assertThat(merged.resolve("f149")).hasContent("layer 149");
    assertThat(merged.resolve("shadowed")).hasContent("from 0"); // topmost first
    assertThat(mountLine(merged)).contains(" overlay ").contains("volatile");
    assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self/cwd"))).isEqualTo(cwd);
    assertThat(Files.readSymbolicLink(Path.of("/proc/self/cwd"))).isEqualTo(cwd);
    Files.writeString(merged.resolve("new"), "written");
    Mounts.unmount(merged);
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    assertThat(upper.resolve("new")).hasContent("written");
  }

  @Test
  void aSingleLowerWithoutUpperIsAReadOnlyBindMount() throws Exception {
    Path lower = Files.createDirectories(dir.resolve("l"));
    Files.writeString(lower.resolve("f"), "lower");
    Path view = dir.resolve("v");

    Mounts.overlay(List.of(lower), null, null, view, dir.resolve("k"));

    assertThat(view.resolve("f")).hasContent("lower");
    String[] fields = mountLine(view).split(" ");
    assertThat(fields[5]).startsWith("ro"); // the mount's own options
    assertThatThrownBy(() -> Files.writeString(view.resolve("g"), "x"))
        .isInstanceOf(IOException.class).hasMessageContaining("Read-only file system");
    assertThat(lower.resolve("g")).doesNotExist();
  }

  @Test
  void aTmpfsGetsItsOptions() throws Exception {
    Path target = dir.resolve("secrets");

    Mounts.tmpfs(target, "mode=0700,size=1m");

    String line = mountLine(target);
    assertThat(line).contains(" - tmpfs tmpfs ").contains("size=1024k").contains("mode=700");
    Files.writeString(target.resolve("value"), "s3cr3t");
    Mounts.unmount(target);
    assertThat(target.resolve("value")).doesNotExist(); // it was on the tmpfs, gone with it
  }

  @Test
  void aBusyMountIsDetachedLazilyNotWaitedFor() throws Exception {
    Path target = dir.resolve("busy");
    Mounts.tmpfs(target, "size=1m");
    Files.writeString(target.resolve("open"), "held");
    try (InputStream held = Files.newInputStream(target.resolve("open"))) {
      Mounts.unmount(target);
      assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
      assertThat(new String(held.readAllBytes())).isEqualTo("held"); // the open file still reads
    }
  }

  @Test
  void unmountingWhatIsNotMountedIsANoOp() throws Exception {
    Path plain = Files.createDirectories(dir.resolve("plain"));
    Mounts.unmount(plain);
    Mounts.unmount(dir.resolve("missing"));
    assertThat(plain).isDirectory();
  }

  /** A RUN may leave a symlink where the worker later unmounts: it must not unmount what the link points at. */
  @Test
  void unmountingASymlinkNeverUnmountsTheMountItPointsAt() throws Exception {
    Path victim = dir.resolve("victim");
    Mounts.tmpfs(victim, "size=1m");
    Files.writeString(victim.resolve("kept"), "still here");
    Path link = Files.createSymbolicLink(dir.resolve("link"), victim);

    Mounts.unmount(link);

    assertThat(Mounts.mountPointsUnder(dir)).containsExactly(victim);
    assertThat(victim.resolve("kept")).hasContent("still here");
  }

  @Test
  void aFailedMountNamesItsTargetAndTheErrno() throws Exception {
    Path missing = dir.resolve("no-such-lower");
    Path upper = Files.createDirectories(dir.resolve("u"));
    Path work = Files.createDirectories(dir.resolve("w"));
    Path merged = dir.resolve("m");

    assertThatThrownBy(() -> Mounts.overlay(List.of(missing), upper, work, merged, dir.resolve("k")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot mount an overlay at " + merged)
        .hasMessageContaining("No such file or directory (ENOENT)");
    assertThatThrownBy(() -> Mounts.overlay(List.of(missing), null, null, dir.resolve("v"), dir.resolve("k2")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot bind " + missing + " at " + dir.resolve("v"))
        .hasMessageContaining("(ENOENT)");
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
  }

  /** Where JNA cannot load, the tools make the same mounts. */
  @Test
  void theToolsMakeTheSameMountsWhereJnaCannotLoad() throws Exception {
    MountCalls tools = new ToolMounts();
    Path a = Files.createDirectories(dir.resolve("a"));
    Path b = Files.createDirectories(dir.resolve("b"));
    Files.writeString(b.resolve("f"), "b");
    Path links = Files.createDirectories(dir.resolve("k"));
    Files.createSymbolicLink(links.resolve("0"), a);
    Files.createSymbolicLink(links.resolve("1"), b);
    Path view = Files.createDirectories(dir.resolve("v"));

    tools.overlay("lowerdir=0:1", view, links);
    assertThat(view.resolve("f")).hasContent("b");
    Path link = Files.createSymbolicLink(dir.resolve("link"), view);
    tools.unmount(link);
    assertThat(Mounts.mountPointsUnder(dir)).containsExactly(view);
    tools.unmount(view);
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
  }

  /** The mountinfo line of the mount at {@code target}. */
  private static String mountLine(Path target) throws IOException {
    String point = target.toAbsolutePath().normalize().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      if (line.split(" ")[4].equals(point)) {
        return line;
      }
    }
    throw new AssertionError(point + " is not mounted");
  }
}
