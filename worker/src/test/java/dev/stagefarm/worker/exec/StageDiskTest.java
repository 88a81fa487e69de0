package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.copyTo;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.runtime.RunLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The worker's {@code stage-disk} limit for real (loop-mounted ext4 under runc and overlayfs): a
 * stage that writes more than it may fails naming the setting, however it writes (RUN or COPY),
 * the worker's own file system keeps nothing of it, and the next stage runs.
 */
class StageDiskTest {
  private static final long LIMIT = 32L << 20;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aRunThatFillsItsDiskFailsNamingTheLimitAndLeavesNothingOnTheHost() throws Exception {
    LocalStages stages = new LocalStages(RunLimits.none().withStageDisk(LIMIT));
    long hostFreeBefore = Files.getFileStore(stages.workDir).getUsableSpace();

    StageFailure failure = stages.run(program()
        .run("dd if=/dev/zero of=/filler bs=1M count=200 && echo wrote-it-all").build()).failed();

    assertThat(failure.message())
        .startsWith("RUN failed: the stage used up its disk, the worker's limit stage-disk=32MiB");
    assertThat(failure.retriable()).isFalse();
    assertThat(failure.outputTail()).contains("No space left on device").doesNotContain("wrote-it-all");
    assertNoStageLeftovers(stages);
    // the 200 MiB never reached the worker's file system (a generous margin for other tests' files)
    assertThat(hostFreeBefore - Files.getFileStore(stages.workDir).getUsableSpace()).isLessThan(100L << 20);

    var after = stages.run(program().run("echo after > /after").build()).completed();
    assertThat(stages.unpack(after).resolve("after")).hasContent("after\n");
    assertNoStageLeftovers(stages);
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aCopyLargerThanTheDiskFailsNamingTheLimitNotAsAWorkerFault() throws Exception {
    LocalStages stages = new LocalStages(RunLimits.none().withStageDisk(LIMIT));
    var context = stages.contextBytes(Map.of("big.bin", new byte[40 << 20]));

    StageFailure failure = stages.run(program()
        .copy(copyTo("/big.bin").context(context.select("big.bin"))).build()).failed();

    assertThat(failure.message()).startsWith("COPY failed: the stage used up its disk, the worker's limit stage-disk=32MiB");
    assertThat(failure.retriable()).isFalse();
    assertNoStageLeftovers(stages);
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void stagesWithinTheLimitBuildAndALaterStageStacksTheirLayersFromTheCache() throws Exception {
    LocalStages stages = new LocalStages(RunLimits.none().withStageDisk(LIMIT));
    var first = stages.run(program()
        .run("dd if=/dev/urandom of=/data bs=1M count=8 2>/dev/null && mkdir /d && echo x > /d/f")
        .run("rm /d/f && echo y > /y").build()).completed();
    // the second stage starts from the first one's result: its layers come from the worker's layer
    // cache, copied off the first stage's disk when that stage ended
    var second = stages.run(program().run("test ! -e /d/f && cat /y > /z && wc -c < /data > /size").build(),
        first, Map.of(), true).completed();

    Path root = stages.unpack(second);
    assertThat(root.resolve("z")).hasContent("y\n");
    assertThat(Files.readString(root.resolve("size")).strip()).isEqualTo(Integer.toString(8 << 20));
    assertNoStageLeftovers(stages);
  }

  /** No stage workspace, disk image or loop mount is left once stages have ended. */
  private static void assertNoStageLeftovers(LocalStages stages) throws IOException {
    Path stagesDir = stages.workDir.resolve("work").resolve("stages");
    try (Stream<Path> left = Files.list(stagesDir)) {
      assertThat(left.toList()).isEmpty();
    }
    List<String> mounts = Files.readAllLines(Path.of("/proc/self/mountinfo"));
    assertThat(mounts).noneMatch(line -> line.contains(stagesDir.toString()));
  }
}
