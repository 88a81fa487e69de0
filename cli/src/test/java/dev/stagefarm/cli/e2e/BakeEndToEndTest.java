package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.oci.registry.PushOptions;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm bake} end to end on a real farm: five targets that share stages are submitted
 * together and each shared stage runs once (counted from the workers' Started events on the
 * events topic), every target's image is right; and a bake file from buildx's documentation
 * builds unchanged.
 */
class BakeEndToEndTest {

  private static final Pattern SUBMITTED = Pattern.compile("build (\\S+) submitted");

  /** {@code --progress tty}: one live view whose lines name each target's stages, not plain lines per target. */
  @Test
  void theTtyViewShowsEveryTargetsStagesInOneLiveView(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s AS base
        RUN echo %s > /base.txt
        FROM base AS one
        RUN echo one > /t.txt
        FROM base AS two
        RUN echo two > /t.txt
        """.formatted(FarmUnderTest.busybox(), UUID.randomUUID()));
    Path bakeFile = Files.writeString(dir.resolve("docker-bake.hcl"), """
        group "default" { targets = ["one", "two"] }
        target "one" {
          context = "%1$s"
          target = "one"
        }
        target "two" {
          context = "%1$s"
          target = "two"
        }
        """.formatted(ctx));

    FarmUnderTest.Result result = FarmUnderTest.stagefarm("bake", "--coordinator", farm.endpoint(), "--progress", "tty",
        "-f", bakeFile.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    String lastFrame = result.stderr().substring(result.stderr().lastIndexOf("[+] building"));
    assertThat(lastFrame).contains(" => one base: ", " => one one: ", " => two base: ", " => two two: ");
    assertThat(result.stderr()).as("no plain lines behind target prefixes").doesNotContainPattern("(?m)^one +\\| ");
    assertThat(result.stdout()).contains("bake: 2 targets built");
  }

  @Test
  void fiveTargetsSharingStagesRunEachSharedStageOnce(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    String nonce = UUID.randomUUID().toString(); // fresh stages: no cache from earlier tests
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s AS base
        RUN echo %s > /base.txt && sleep 2
        FROM base AS deps
        RUN echo deps > /deps.txt && sleep 1
        FROM deps AS app1
        RUN echo app1 > /app.txt
        FROM deps AS app2
        RUN echo app2 > /app.txt
        FROM deps AS app3
        RUN echo app3 > /app.txt
        FROM deps AS app4
        RUN echo app4 > /app.txt
        FROM base AS app5
        RUN echo app5 > /app.txt
        """.formatted(FarmUnderTest.busybox(), nonce));
    Path bakeFile = Files.writeString(dir.resolve("docker-bake.hcl"), """
        variable "OUT" { default = "%s" }

        group "default" {
          targets = ["app", "app5"]
        }

        target "_common" {
          context = "%s"
        }

        target "app" {
          inherits = ["_common"]
          name = "app${n}"
          matrix = {
            n = ["1", "2", "3", "4"]
          }
          target = "app${n}"
          tags = ["bake/app${n}:e2e"]
          output = ["type=oci,dest=${OUT}/app${n}.tar"]
        }

        target "app5" {
          inherits = ["_common"]
          target = "app5"
          tags = ["bake/app5:e2e"]
          output = ["type=oci,dest=${OUT}/app5.tar"]
        }
        """.formatted(dir, ctx));

    FarmUnderTest.Result result = FarmUnderTest.stagefarm("bake", "--coordinator", farm.endpoint(), "--progress", "plain",
        "-f", bakeFile.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).contains("bake: 5 targets built");
    for (int n = 1; n <= 5; n++) {
      assertThat(result.stderr()).as("progress lines carry the target's name").containsPattern("(?m)^app" + n + " +\\| ");
    }
    List<String> builds = new ArrayList<>();
    Matcher m = SUBMITTED.matcher(result.stderr());
    while (m.find()) {
      builds.add(m.group(1));
    }
    assertThat(builds).hasSize(5);

    Map<String, Integer> runsByStage = new HashMap<>();
    Map<String, List<StageEvent>> events = FarmEvents.of(farm.kafkaBootstrap(), builds);
    for (String build : builds) {
      BuildStatus status = FarmUnderTest.client().getBuild(build);
      Map<String, String> names = new HashMap<>();
      for (StageStatus stage : status.getStagesList()) {
        names.put(stage.getStageId(), stage.getName());
      }
      for (StageEvent event : events.getOrDefault(build, List.of())) {
        if (dev.stagefarm.proto.StageRuns.marksRun(event)) {
          runsByStage.merge(names.get(event.getStageId()), 1, Integer::sum);
        }
      }
    }
    assertThat(runsByStage).as("Started events per stage over the five builds").containsExactlyInAnyOrderEntriesOf(Map.of(
        "base", 1, "deps", 1, "app1", 1, "app2", 1, "app3", 1, "app4", 1, "app5", 1));

    for (int n = 1; n <= 5; n++) {
      Path bundle = ImageChecks.unpack(dir.resolve("app" + n + ".tar"), "e2e", Files.createDirectories(dir.resolve("u" + n)));
      Path rootfs = bundle.resolve("rootfs");
      assertThat(Files.readString(rootfs.resolve("app.txt"))).isEqualTo("app" + n + "\n");
      assertThat(Files.readString(rootfs.resolve("base.txt"))).isEqualTo(nonce + "\n");
      assertThat(Files.exists(rootfs.resolve("deps.txt"))).as("app%d has the deps stage", n).isEqualTo(n != 5);
    }
  }

  /** A bake file of two targets, each an inline Dockerfile: FROM busybox, then {@code RUN COMMAND}. */
  private static Path twoInlineTargets(Path dir, String first, String firstRun, String second, String secondRun)
      throws Exception {
    String target = """
        target "%s" {
          context = "%s"
          dockerfile-inline = "FROM %s\\nRUN %s"
        }
        """;
    return Files.writeString(dir.resolve("docker-bake.hcl"),
        "group \"default\" { targets = [\"%s\", \"%s\"] }\n".formatted(first, second)
            + target.formatted(first, dir, FarmUnderTest.busybox(), firstRun)
            + target.formatted(second, dir, FarmUnderTest.busybox(), secondRun));
  }

  @Test
  void tenantAndPriorityGoWithEveryTargetsBuild(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    String nonce = UUID.randomUUID().toString();
    Path bakeFile = twoInlineTargets(dir, "first", "echo first-" + nonce + " > /x", "second",
        "echo second-" + nonce + " > /x");

    // a priority below 0 needs no tenant-max-priority: the farm's default bound is 0
    FarmUnderTest.Result result = FarmUnderTest.stagefarm("bake", "--coordinator", farm.endpoint(), "--progress", "plain",
        "--tenant", "team-b", "--priority", "-3", "-f", bakeFile.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    List<String> builds = new ArrayList<>();
    Matcher m = SUBMITTED.matcher(result.stderr());
    while (m.find()) {
      builds.add(m.group(1));
    }
    assertThat(builds).hasSize(2);
    for (String build : builds) {
      BuildStatus status = FarmUnderTest.client().getBuild(build);
      assertThat(status.getTenant()).isEqualTo("team-b");
      assertThat(status.getPriority()).isEqualTo(-3);
    }
  }

  @Test
  void aFailingTargetIsNamedAndTheOthersStillBuild(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    String nonce = UUID.randomUUID().toString();
    Path bakeFile = twoInlineTargets(dir, "good", "echo good-" + nonce + " > /x", "bad", "echo bad-" + nonce + " && exit 3");

    FarmUnderTest.Result result = FarmUnderTest.stagefarm("bake", "--coordinator", farm.endpoint(), "--progress", "plain",
        "-f", bakeFile.toString());

    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.stderr()).contains("error: target \"bad\":").contains("bake: 1 of 2 targets failed: bad");
    assertThat(result.stdout()).containsPattern("good: image sha256:[0-9a-f]{64} stored");
  }

  /**
   * docs/bake-reference.md's "Groups take precedence over targets" file, unchanged: it builds {@code
   * FROM alpine} and {@code FROM debian}. No public registry is reachable here, so the local registry
   * serves the busybox test image under those names and the one-shot farm of {@code stagefarm bake}
   * uses it as its docker.io mirror.
   */
  @Test
  void aBakeFileFromTheBuildxDocumentationBuildsUnchanged(@TempDir Path dir) throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    try (RegistryClient client = new RegistryClient(registry.settings())) {
      for (String name : List.of("library/alpine:latest", "library/debian:latest")) {
        client.pushImage(registry.reference(name), BusyboxImage.manifestBytes(), BusyboxImage.layout(), PushOptions.MONOLITHIC);
      }
    }
    Path docs = Path.of("..", "bake", "src", "test", "resources", "buildx-docs", "reference-group-precedence.hcl");
    Path bakeFile = Files.copy(docs, dir.resolve("docker-bake.hcl"));
    Path out = dir.resolve("alpine.tar");

    // --one-shot: a farm in this process for this bake only (the local background farm would outlive the test)
    FarmUnderTest.Result result = FarmUnderTest.stagefarm("bake", "-f", bakeFile.toString(), "--progress", "plain",
        "--one-shot", "--registry-mirror", "docker.io=" + registry.host(), "--workers", "1",
        "--set", "alpine.output=type=oci,dest=" + out, "--set", "alpine.tags=doc/alpine:e2e");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).contains("bake: 2 targets built").containsPattern("debian: image sha256:[0-9a-f]{64}");
    Path bundle = ImageChecks.unpack(out, "e2e", Files.createDirectories(dir.resolve("u")));
    assertThat(bundle.resolve("rootfs/bin/busybox")).exists();
  }
}
