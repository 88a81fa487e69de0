package dev.stagefarm.multihost;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * deploy/compose, as its README describes it, on the suite's engine: a farm comes up and a build
 * through it runs. By default with the s3rver backend (the override file): S3Proxy, compose's
 * default backend, is the S3 server of {@link MultiHostBuildTest}'s farm, so the suite tests both
 * servers under a farm while bringing a compose project up once (each costs minutes).
 * {@code -Dstagefarm.compose.backends=s3proxy,s3rver} runs the smoke with both.
 */
@ExtendWith(DockerEngine.class)
class ComposeFarmTest {
  @TempDir Path work;

  static Stream<String> backends() {
    return Arrays.stream(System.getProperty("stagefarm.compose.backends", "s3rver").split(","))
        .map(String::strip).filter(s -> !s.isEmpty());
  }

  @ParameterizedTest
  @MethodSource("backends")
  void composeFarmBuildsAnImageThatRuns(String s3) {
    String last = DockerEngine.run(
        List.of(DockerEngine.root().resolve("deploy/compose/smoke.sh").toString(), "--docker-host", DockerEngine.host(),
            "--s3", s3),
        work.resolve("smoke.log"));
    assertThat(last).isEqualTo("smoke.sh: a build through deploy/compose (" + s3 + ") succeeded");
  }
}
