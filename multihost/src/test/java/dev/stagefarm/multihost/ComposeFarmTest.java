package dev.stagefarm.multihost;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** deploy/compose, as its README describes it, on the suite's engine: a farm comes up and a build through it runs. */
@ExtendWith(DockerEngine.class)
class ComposeFarmTest {
  @TempDir Path work;

  @Test
  void composeFarmBuildsAnImageThatRuns() {
    String last = DockerEngine.run(
        List.of(DockerEngine.root().resolve("deploy/compose/smoke.sh").toString(), "--docker-host", DockerEngine.host()),
        work.resolve("smoke.log"));
    assertThat(last).isEqualTo("smoke.sh: a build through deploy/compose succeeded");
  }
}
