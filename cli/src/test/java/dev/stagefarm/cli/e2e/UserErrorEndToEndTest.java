package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user error (a failing RUN, a path that is not there) fails the build on its first attempt with
 * the Dockerfile line and the cause: it would fail the same way on any worker, so it is never
 * retried. What the coordinator can see is reported before any stage is published.
 */
class UserErrorEndToEndTest {

  @Test
  void aFailingRunFailsTheBuildOnItsFirstAttempt(@TempDir Path ctx) throws Exception {
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN echo %s
        RUN echo about to fail && exit 3
        """.formatted(FarmUnderTest.busybox(), java.util.UUID.randomUUID()));

    FarmUnderTest.Result result = FarmUnderTest.build(ctx.toString());

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("error: Dockerfile:3:").contains("exit code: 3").doesNotContain("Exception");
    BuildStatus status = FarmUnderTest.lastBuild();
    assertThat(status.getState()).isEqualTo(BuildState.FAILED);
    assertThat(status.getStagesList()).singleElement().satisfies(stage -> {
      assertThat(stage.getState()).isEqualTo(StageState.STAGE_FAILED);
      assertThat(stage.getAttempt()).isEqualTo(1);
    });
  }

  @Test
  void aMissingPathInAnotherStageFailsOnTheWorkerOnceNamingLineAndPath(@TempDir Path ctx) throws Exception {
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s AS src
        RUN echo %s > /present

        FROM scratch
        COPY --from=src /present /
        COPY --from=src /not/there /x
        """.formatted(FarmUnderTest.busybox(), java.util.UUID.randomUUID()));

    FarmUnderTest.Result result = FarmUnderTest.build(ctx.toString());

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("error: Dockerfile:6:").contains("/not/there").doesNotContain("Exception");
    BuildStatus status = FarmUnderTest.lastBuild();
    assertThat(status.getState()).isEqualTo(BuildState.FAILED);
    StageStatus copying = status.getStagesList().stream().filter(s -> s.getName().equals("1")).findFirst().orElseThrow();
    assertThat(copying.getState()).isEqualTo(StageState.STAGE_FAILED);
    assertThat(copying.getAttempt()).isEqualTo(1);
  }

  @Test
  void aMissingContextFileIsReportedBeforeAnyStageRuns(@TempDir Path ctx) throws Exception {
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN echo %s
        COPY missing.txt /x
        """.formatted(FarmUnderTest.busybox(), java.util.UUID.randomUUID()));

    FarmUnderTest.Result result = FarmUnderTest.build(ctx.toString());

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("error: Dockerfile:3:").contains("missing.txt").doesNotContain("Exception");
    BuildStatus status = FarmUnderTest.lastBuild();
    assertThat(status.getState()).isEqualTo(BuildState.FAILED);
    assertThat(status.getStagesList()).allSatisfy(stage -> assertThat(stage.getAttempt()).isZero());
  }
}
