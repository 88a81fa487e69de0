package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.exec;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.runtime.RunLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The RUN sandbox for real (runc, overlayfs): Docker's seccomp profile, noNewPrivileges, masked
 * /proc paths, and the worker's cgroup limits, each hit failing the stage with the setting's name
 * while the worker keeps running stages.
 */
class RunSandboxTest {

  @Test
  void aRunCannotCreateNamespacesYetOrdinaryCommandsWork() throws Exception {
    LocalStages stages = new LocalStages(false);
    var result = stages.run(program()
        .run("unshare -U true 2> /unshare-user.err; echo $? > /unshare-user.exit;"
            + " unshare -m true 2> /unshare-mount.err; echo $? > /unshare-mount.exit;"
            + " nsenter -t 1 -n true 2> /nsenter.err; echo $? > /nsenter.exit")
        .run("mkdir -p /data/sub && echo hello > /data/sub/f && tar -cf /t.tar -C /data . && mkdir /x"
            + " && tar -xf /t.tar -C /x && cp -a /x /y && sh -c 'echo child' > /child")
        .build()).completed();
    Path root = stages.unpack(result);
    for (String probe : new String[] {"unshare-user", "unshare-mount", "nsenter"}) {
      assertThat(Files.readString(root.resolve(probe + ".exit")).strip()).as(probe).isNotEqualTo("0");
      assertThat(Files.readString(root.resolve(probe + ".err"))).as(probe).contains("Operation not permitted");
    }
    assertThat(Files.readString(root.resolve("y/sub/f"))).isEqualTo("hello\n");
    assertThat(Files.readString(root.resolve("child"))).isEqualTo("child\n");
  }

  @Test
  void aSandboxedRunHasSeccompNoNewPrivilegesAndMaskedPathsAnInsecureOneHasNone() throws Exception {
    LocalStages stages = new LocalStages(true);
    String probe = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr -d ' \\t' > /%s;"
        + " wc -c < /proc/interrupts | tr -d ' ' >> /%s";
    var result = stages.run(program()
        .run(String.format(probe, "sandboxed", "sandboxed"))
        .run(exec(String.format(probe, "insecure", "insecure")).insecure())
        .build()).completed();
    Path root = stages.unpack(result);
    // Seccomp 2 = filter mode; a masked path reads as empty
    assertThat(Files.readString(root.resolve("sandboxed"))).isEqualTo("NoNewPrivs:1\nSeccomp:2\n0\n");
    String insecure = Files.readString(root.resolve("insecure"));
    assertThat(insecure).startsWith("NoNewPrivs:0\nSeccomp:0\n");
    assertThat(insecure.lines().skip(2).findFirst().orElseThrow()).isNotEqualTo("0");
  }

  @Test
  void aRunSeesTheWorkersCgroupLimits() throws Exception {
    LocalStages stages = new LocalStages(new RunLimits(256L << 20, 100, 0.5));
    var result = stages.run(program()
        .run("cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"
            + " /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us > /limits")
        .build()).completed();
    assertThat(Files.readString(stages.unpack(result).resolve("limits")))
        .isEqualTo((256L << 20) + "\n100\n50000\n100000\n");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aMemoryHogFailsItsStageNamingTheLimitAndTheNextStageRuns() throws Exception {
    LocalStages stages = new LocalStages(new RunLimits(64L << 20, 256, 1));
    // tail keeps a "line" of 400 MiB of zero bytes in memory
    StageFailure failure = stages.run(program().run("head -c 400m /dev/zero | tail -n 1 > /dev/null").build()).failed();
    assertThat(failure.message())
        .startsWith("RUN was killed: it exceeded the worker's memory limit run-memory=64MiB");
    stages.run(program().run("echo after > /after").build()).completed();
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aForkBombFailsItsStageNamingTheLimitAndTheNextStageRuns() throws Exception {
    LocalStages stages = new LocalStages(new RunLimits(256L << 20, 32, 1));
    // the bomb's processes die with the container's init when the RUN's shell gives up
    StageFailure failure = stages.run(program().run("b() { b | b & }; b; sleep 2; exit 3").build()).failed();
    assertThat(failure.message()).startsWith("RUN failed: it reached the worker's pids limit run-pids=32");
    stages.run(program().run("echo after > /after").build()).completed();
  }
}
