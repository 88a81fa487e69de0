package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stagefarm bake} up to the farm: everything here fails or prints before any farm is started. */
class BakeCommandTest {

  private static Path bakeFile(Path dir, String hcl) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM busybox AS base\nRUN true\nFROM base AS app\n");
    return Files.writeString(dir.resolve("docker-bake.hcl"), hcl.replace("CTX", dir.toString()));
  }

  @Test
  void printShowsTheResolvedTargetsAndBuildsNothing(@TempDir Path dir) throws Exception {
    Path file = bakeFile(dir, """
        variable "TAG" { default = "1" }
        target "app" {
          context = "CTX"
          tags = ["app:${TAG}"]
        }
        """);

    CliRun run = CliRun.of("bake", "-f", file.toString(), "--print", "--set", "app.args.V=2", "app");

    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.stdout()).isEqualTo("""
        {
          "group": {
            "default": {
              "targets": [
                "app"
              ]
            }
          },
          "target": {
            "app": {
              "context": "%s",
              "dockerfile": "Dockerfile",
              "args": {
                "V": "2"
              },
              "tags": [
                "app:1"
              ]
            }
          }
        }
        """.formatted(dir));
  }

  @Test
  void anAttributeTheBuildPathLacksIsRefusedByNameBeforeAnyFarmStarts(@TempDir Path dir) throws Exception {
    Path file = bakeFile(dir, """
        target "default" {
          context = "CTX"
          entitlements = ["network.host"]
        }
        """);

    CliRun run = CliRun.of("bake", "-f", file.toString(), "--coordinator", "127.0.0.1:1");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).isEqualTo("error: target \"default\": attribute entitlements is not supported by stagefarm yet\n");
  }

  /** The farm-selection flags are build's (one mixin): the same check, the same exit code. */
  @Test
  void noWorkersIsAUsageErrorAsInBuild(@TempDir Path dir) throws Exception {
    Path file = bakeFile(dir, "target \"default\" {\n  context = \"CTX\"\n}\n");

    for (String command : new String[] {"bake", "build"}) {
      CliRun run = CliRun.of(command, command.equals("bake") ? "-f" : "--one-shot",
          command.equals("bake") ? file.toString() : dir.toString(), "--workers", "0");

      assertThat(run.exitCode()).as(command).isEqualTo(ExitCodes.USAGE);
      assertThat(run.stderr()).as(command).contains("--workers must be at least 1");
    }
  }

  @Test
  void anOutputToStandardOutputIsRefusedNamingTheTarget(@TempDir Path dir) throws Exception {
    Path file = bakeFile(dir, "target \"default\" {\n  context = \"CTX\"\n  output = [\"type=tar,dest=-\"]\n}\n");

    CliRun run = CliRun.of("bake", "-f", file.toString(), "--coordinator", "127.0.0.1:1");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).contains("target \"default\": an output to standard output (dest=-) cannot be shared");
  }

  @Test
  void aDockerfileMistakeNamesTheTargetAndLine(@TempDir Path dir) throws Exception {
    Path file = bakeFile(dir, """
        target "default" {
          context = "CTX"
          dockerfile-inline = "FROM busybox\\nFRM oops\\n"
        }
        """);

    CliRun run = CliRun.of("bake", "-f", file.toString(), "--coordinator", "127.0.0.1:1");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).startsWith("error: target \"default\": default: dockerfile-inline:2");
  }

  @Test
  void aBakeFileErrorNamesFileLineAndColumn(@TempDir Path dir) throws Exception {
    Path file = bakeFile(dir, "target \"default\" {\n  tags = [\"a\"\n}\n");

    CliRun run = CliRun.of("bake", "-f", file.toString(), "--print");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).isEqualTo("error: " + file + ":3:1: expected \",\" or \"]\", found \"}\"\n");
  }

  @Test
  void multiplePlatformsPerTargetAreNotSupportedYet(@TempDir Path dir) throws Exception {
    Path file = bakeFile(dir, "target \"default\" {\n  context = \"CTX\"\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n}\n");

    CliRun run = CliRun.of("bake", "-f", file.toString(), "--coordinator", "127.0.0.1:1");

    assertThat(run.stderr()).contains("platforms has 2 platforms; stagefarm builds one platform per target");
  }
}
