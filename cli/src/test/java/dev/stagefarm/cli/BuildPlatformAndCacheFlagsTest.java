package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code stagefarm build} cannot do (yet) with platforms and caches says so before any farm is contacted. */
class BuildPlatformAndCacheFlagsTest {
  // nothing listens on port 1: the error proves no connection was tried first
  private static final String FARM = "127.0.0.1:1";

  @Test
  void whatSeveralPlatformsCannotDoIsRefusedBeforeAnythingStarts(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\n");
    String two = "linux/amd64,linux/arm64";
    assertThat(BuildCommandTest.run("build", "--coordinator", FARM, "--platform", two, "--push", dir.toString()))
        .startsWith("error: pushing needs a name");
    assertThat(BuildCommandTest.run("build", "--coordinator", FARM, "--platform", two, "-o",
        "type=docker,dest=" + dir.resolve("x.tar"), dir.toString()))
        .isEqualTo("error: -o type=docker cannot hold images of several platforms: use type=oci (an OCI image"
            + " index), or type=image|registry to push one\n");
    assertThat(BuildCommandTest.run("build", "--coordinator", FARM, "--platform", "linux/arm64,linux/arm64",
        dir.toString()))
        .isEqualTo("error: --platform linux/arm64,linux/arm64: a platform is given twice\n");
    assertThat(BuildCommandTest.run("build", "--coordinator", FARM, "--platform", "linux/", dir.toString()))
        .isEqualTo("error: --platform wants OS/ARCH[/VARIANT][,…], got \"linux/\"\n");
  }

  @Test
  void malformedCacheFlagsAreUsageErrorsBeforeAnyFarmIsContacted(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\n");
    assertThat(BuildCommandTest.run("build", "--coordinator", FARM, "--cache-to", "type=registry,ref=r/c:1,mode=all",
        dir.toString()))
        .isEqualTo("error: --cache-to type=registry,ref=r/c:1,mode=all: mode must be min or max, not \"all\"\n");
    assertThat(BuildCommandTest.run("build", "--coordinator", FARM, "--cache-from", "type=gha", dir.toString()))
        .startsWith("error: --cache-from type=gha: type \"gha\" is not supported");
    assertThat(BuildCommandTest.run("build", "--coordinator", FARM, "--platform", "linux/amd64,linux/arm64",
        "--cache-to", "type=registry,ref=r/c:1", dir.toString()))
        .startsWith("error: --cache-to with several --platform values is not supported yet");
  }
}
