package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.worker.HeldLock;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local farm's liveness check inside the daemon's own process: on Linux a process's lock on a file goes when it
 * closes any descriptor of that file, so a check that opened and closed the lock file there would free the
 * daemon's lock for every other process. The kernel's own table ({@code /proc/locks}) says whether it still holds.
 */
class LocalFarmStateLockTest {
  @TempDir Path home;

  @Test
  void theCheckInTheDaemonsOwnProcessKeepsItsLock() throws Exception {
    LocalFarmState state = LocalFarmState.forHome(home);
    state.create();
    Path lockFile = state.dir().resolve(LocalFarmState.LOCK);
    assertThat(state.daemonAlive()).as("no daemon yet").isFalse();
    try (HeldLock held = HeldLock.tryHold(lockFile, HeldLock.thisProcess("the local farm")).held()) {
      assertThat(held).isNotNull();
      LocalFarmState.daemonHoldsLock(lockFile, true); // as LocalFarmDaemon does
      assertThat(kernelLocksOn(lockFile)).isOne();

      assertThat(state.daemonAlive()).isTrue();
      assertThat(state.daemonAlive()).as("asked again").isTrue();
      assertThat(kernelLocksOn(lockFile)).as("the daemon's lock survived the checks").isOne();
    } finally {
      LocalFarmState.daemonHoldsLock(lockFile, false);
    }
    assertThat(kernelLocksOn(lockFile)).isZero();
    assertThat(state.daemonAlive()).as("freed").isFalse();
  }

  /** POSIX locks on {@code file} held by this process, from the kernel's table. */
  private static long kernelLocksOn(Path file) throws Exception {
    long inode = (Long) Files.getAttribute(file, "unix:ino");
    String pid = Long.toString(ProcessHandle.current().pid());
    return Files.readAllLines(Path.of("/proc/locks")).stream()
        .map(line -> line.trim().split("\\s+"))
        .filter(f -> f.length > 5 && f[1].equals("POSIX") && f[4].equals(pid) && f[5].endsWith(":" + inode))
        .count();
  }
}
