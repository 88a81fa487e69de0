package dev.stagefarm.multihost;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * deploy/compose, as its README describes it, on the suite's engine: a farm comes up and a build
 * through it runs, with each of its S3 backends (S3Proxy, the default; s3rver, the override file).
 */
@ExtendWith(DockerEngine.class)
class ComposeFarmTest {
  @TempDir Path work;

  @ParameterizedTest
  @ValueSource(strings = {"s3proxy", "s3rver"})
  void composeFarmBuildsAnImageThatRuns(String s3) {
    String last = DockerEngine.run(
        List.of(DockerEngine.root().resolve("deploy/compose/smoke.sh").toString(), "--docker-host", DockerEngine.host(),
            "--s3", s3),
        work.resolve("smoke.log"));
    assertThat(last).isEqualTo("smoke.sh: a build through deploy/compose (" + s3 + ") succeeded");
  }
}
