package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --load} without a reachable Docker engine: a farm-side failure in docker's own words. */
class ImageLoaderTest {
  @Test
  void noReachableEngineIsAFarmFailureNamingDockerHost(@TempDir Path dir) throws Exception {
    Path archive = Files.writeString(dir.resolve("image.tar"), "not used");
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("DOCKER_HOST", "unix://" + dir.resolve("no-engine.sock"));

    assertThatThrownBy(() -> ImageLoader.load(archive, env))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("DOCKER_HOST=unix://" + dir.resolve("no-engine.sock"))
        .satisfies(e -> assertThat(((UserError) e).exitCode()).isEqualTo(ExitCodes.FARM_FAILED));
  }
}
