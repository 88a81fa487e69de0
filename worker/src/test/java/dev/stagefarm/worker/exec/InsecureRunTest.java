package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.exec;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code RUN --security=insecure} on a worker whose {@code allow-insecure} setting is on: that RUN
 * gets every capability (BuildKit with the security.insecure entitlement), the RUNs around it stay
 * sandboxed. A worker without the setting refuses it: {@code StageExecutionTest.anInsecureRunFailsWhenTheWorkerDoesNotAllowIt}.
 */
class InsecureRunTest {
  private static final long CAP_SYS_ADMIN = 1L << 21;

  @Test
  void anAllowedInsecureRunHasEveryCapabilityAndOnlyThatRun() throws Exception {
    LocalStages stages = new LocalStages(true);
    var result = stages.run(program()
        .run("grep CapEff /proc/self/status | cut -f2 > /sandboxed-caps")
        .run(exec("grep CapEff /proc/self/status | cut -f2 > /insecure-caps && mkdir /m && mount -t tmpfs t /m"
            + " && umount /m && echo mounted > /mounted").insecure())
        .build()).completed();
    Path root = stages.unpack(result);
    long sandboxed = Long.parseLong(Files.readString(root.resolve("sandboxed-caps")).strip(), 16);
    long insecure = Long.parseLong(Files.readString(root.resolve("insecure-caps")).strip(), 16);
    assertThat(sandboxed & CAP_SYS_ADMIN).isZero();
    assertThat(insecure & CAP_SYS_ADMIN).isNotZero();
    assertThat(Long.bitCount(insecure)).isGreaterThan(Long.bitCount(sandboxed));
    assertThat(Files.readString(root.resolve("mounted"))).isEqualTo("mounted\n");
  }
}
