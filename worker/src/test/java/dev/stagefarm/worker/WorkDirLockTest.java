package dev.stagefarm.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.store.FileBlobStore;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.worker.config.WorkerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One worker per work dir, whichever process runs it: a second worker started on a work dir in use is refused before
 * its start-up cleanup, which would unmount the first's mounts and delete its stages' scratch. Real workers (runc,
 * slirp4netns) on an in-process bus and a file store; the other holder in this JVM and in a child JVM.
 */
class WorkDirLockTest {
  @TempDir Path dir;
  private Path mounted;

  /** Workers of one host without a broker: the in-process bus (of this JVM) and a directory store. */
  static final class OneHostFarm {
    private final InProcessBus bus = new InProcessBus(Duration.ofSeconds(30), 5);
    private final String address = InProcessBus.ADDRESS_PREFIX + "workdir-lock-" + UUID.randomUUID();
    private final String store;

    OneHostFarm(Path storeDir) throws IOException {
      bus.register(address);
      try (FileBlobStore files = FileBlobStore.open(storeDir)) {
        store = files.location();
      }
    }

    Worker worker(Path workDir, String id) {
      return new Worker(WorkerConfig.of(address, store, "", "", "stagefarm", workDir).withWorkerId(id)
          .withFarmKeys(StageHarness.FARM_KEYS));
    }
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted != null && mountsUnder(mounted).contains(mounted.toString())) {
      new ProcessBuilder("umount", mounted.toString()).inheritIO().start().waitFor();
    }
  }

  @Test
  void aSecondWorkerOnAWorkDirInUseInThisProcessIsRefusedAndLeavesTheFirstsStateAlone() throws Exception {
    OneHostFarm farm = new OneHostFarm(dir.resolve("store"));
    Path work = dir.resolve("work");
    try (Worker first = farm.worker(work, "first").start()) {
      // what a running stage of the first has in the work dir: a mount and scratch
      Path scratch = Files.writeString(Files.createDirectories(work.resolve("stages/s1")).resolve("file"), "mine");
      mounted = Files.createDirectories(work.resolve("stages/s2"));
      assertThat(new ProcessBuilder("mount", "-t", "tmpfs", "tmpfs", mounted.toString()).inheritIO().start()
          .waitFor()).isZero();

      assertThatThrownBy(() -> farm.worker(work, "second").start())
          .hasMessageContaining("work dir " + work + " is in use by worker first (pid "
              + ProcessHandle.current().pid() + ")")
          .hasMessageContaining(work.resolve(Worker.LOCK_FILE).toString())
          .hasMessageContaining("give each worker its own work dir");

      assertThat(scratch).hasContent("mine");
      assertThat(mountsUnder(work)).contains(mounted.toString());
      assertThat(first.whyNotLive()).isEmpty();
    }
    // freed by the first's stop: a worker starts there, and its cleanup is what the refusal spared the first
    try (Worker next = farm.worker(work, "next").start()) {
      assertThat(mountsUnder(work)).doesNotContain(mounted.toString());
      assertThat(work.resolve("stages/s1")).doesNotExist();
    }
  }

  @Test
  void aWorkDirHeldByAnotherProcessIsRefusedNamingItAndFreedWhenItIsKilled() throws Exception {
    Path work = dir.resolve("work");
    Process holder = ChildJvm.startReady(WorkDirHolderMain.class, work.toString(), dir.resolve("child-store").toString(),
        "holder");
    OneHostFarm farm = new OneHostFarm(dir.resolve("store"));
    try {
      assertThatThrownBy(() -> farm.worker(work, "second").start())
          .hasMessageContaining("work dir " + work + " is in use by worker holder (pid " + holder.pid() + ")");
      assertThat(holder.isAlive()).isTrue();
    } finally {
      holder.destroyForcibly(); // SIGKILL: no stop of its own, the kernel frees the lock
      holder.waitFor();
    }
    farm.worker(work, "after").start().close();
  }

  private static List<String> mountsUnder(Path dir) throws IOException {
    String prefix = dir.toAbsolutePath() + "/";
    return Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8).stream()
        .map(l -> l.split(" ")[4])
        .filter(m -> m.startsWith(prefix))
        .toList();
  }
}
