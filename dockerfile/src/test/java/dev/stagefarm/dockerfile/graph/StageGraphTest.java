package dev.stagefarm.dockerfile.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.Dockerfiles;
import dev.stagefarm.dockerfile.instructions.RunInstruction;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StageGraphTest {

  /** The shape of Docker's multi-stage documentation example. */
  static final String CLIENT_SERVER =
      """
      # syntax=docker/dockerfile:1
      FROM alpine AS base
      RUN apk add --no-cache nodejs npm

      FROM base AS build-client
      RUN npm run build:client

      FROM base AS build-server
      RUN npm run build:server

      FROM scratch AS client
      COPY --from=build-client /app/client /app

      FROM alpine AS server
      COPY --from=build-server /app/server /app
      """;

  private static BuildPlan plan(String dockerfile, BuildOptions options) {
    return Dockerfiles.plan(dockerfile, options);
  }

  private static String problem(String dockerfile, BuildOptions options) {
    try {
      plan(dockerfile, options);
    } catch (DockerfileException e) {
      return e.describe("Dockerfile");
    }
    throw new AssertionError("no error");
  }

  private static List<String> running(BuildPlan plan) {
    return plan.runStages().stream().map(PlannedStage::displayName).toList();
  }

  @Test
  void targetClientRunsOnlyTheStagesItReaches() {
    BuildPlan plan = plan(CLIENT_SERVER, BuildOptions.defaults().withTarget("client"));

    assertThat(plan.target().displayName()).isEqualTo("client");
    assertThat(running(plan)).containsExactly("base", "build-client", "client");
    assertThat(plan.stage(2).status()).isEqualTo(PlannedStage.Status.SKIPPED);
    assertThat(plan.stage(4).status()).isEqualTo(PlannedStage.Status.SKIPPED);
    assertThat(plan.stage(1).base()).isEqualTo(new StageBase.StageRef(0));
    assertThat(plan.stage(3).base()).isEqualTo(new StageBase.Scratch());
    assertThat(plan.stage(0).base()).isEqualTo(new StageBase.Image("alpine"));
    assertThat(plan.stage(3).dependsOn()).containsExactly(1);
    assertThat(plan.readinessWaves())
        .extracting(w -> w.stream().map(PlannedStage::index).toList())
        .containsExactly(List.of(0), List.of(1), List.of(3));
  }

  @Test
  void defaultTargetIsTheLastStage() {
    BuildPlan plan = plan(CLIENT_SERVER, BuildOptions.defaults());

    assertThat(plan.target().displayName()).isEqualTo("server");
    assertThat(running(plan)).containsExactly("base", "build-server", "server");
    assertThat(plan.executionOrder()).extracting(PlannedStage::index).containsExactly(0, 2, 4);
  }

  @Test
  void independentStagesShareAReadinessWave() {
    BuildPlan plan =
        plan(
            "FROM a AS x\nFROM b AS y\nFROM c\nCOPY --from=y /y /\nCOPY --from=x /x /\n",
            BuildOptions.defaults());

    assertThat(plan.readinessWaves())
        .extracting(w -> w.stream().map(PlannedStage::index).toList())
        .containsExactly(List.of(0, 1), List.of(2));
    assertThat(plan.stage(2).dependsOn()).containsExactly(0, 1);
  }

  @Test
  void targetNamesAreCaseInsensitiveAndUnknownTargetsAreErrors() {
    assertThat(plan(CLIENT_SERVER, BuildOptions.defaults().withTarget("Build-Client")).targetIndex())
        .isEqualTo(1);
    assertThat(problem(CLIENT_SERVER, BuildOptions.defaults().withTarget("nope")))
        .isEqualTo("Dockerfile: target stage \"nope\" could not be found");
  }

  @Test
  void globalArgsReachFromLinesAndBuildArgsOverrideThem() {
    String dockerfile =
        """
        ARG TAG=3.20
        ARG IMAGE=alpine:${TAG}
        FROM ${IMAGE} AS one
        FROM --platform=$BUILDPLATFORM busybox:$TARGETARCH
        """;

    BuildPlan defaults = plan(dockerfile, BuildOptions.defaults());
    assertThat(defaults.stage(0).base()).isEqualTo(new StageBase.Image("alpine:3.20"));
    assertThat(defaults.stage(1).base()).isEqualTo(new StageBase.Image("busybox:amd64"));
    assertThat(defaults.stage(1).platform()).isEqualTo("linux/amd64");
    assertThat(defaults.globalArgs())
        .containsEntry("TARGETPLATFORM", "linux/amd64")
        .containsEntry("TARGETOS", "linux")
        .containsEntry("BUILDARCH", "amd64")
        .containsEntry("TARGETVARIANT", "");

    BuildPlan overridden =
        plan(
            dockerfile,
            new BuildOptions(
                null, Map.of("TAG", "edge"), Platform.parse("linux/arm64/v8"), null));
    assertThat(overridden.stage(0).base()).isEqualTo(new StageBase.Image("alpine:edge"));
    assertThat(overridden.stage(1).base()).isEqualTo(new StageBase.Image("busybox:arm64"));
    assertThat(overridden.globalArgs()).containsEntry("TARGETVARIANT", "v8");
    assertThat(overridden.globalArgs()).containsEntry("BUILDPLATFORM", "linux/arm64/v8");
  }

  @Test
  void argRedeclaredInAStageTakesTheGlobalValue() {
    BuildPlan plan =
        plan(
            "ARG V=1\nFROM a\nARG V\nARG TARGETOS\nRUN echo $V\n",
            BuildOptions.defaults().withBuildArgs(Map.of("V", "2")));

    var scope = plan.scopeFor(0, List.of(), Map.of());
    plan.stage(0).instructions().forEach(scope::apply);
    assertThat(scope.argValues()).containsEntry("V", "2").containsEntry("TARGETOS", "linux");
  }

  @Test
  void copyFromAcceptsStageNamesIndexesAndImages() {
    BuildPlan plan =
        plan(
            """
            FROM alpine AS Build
            FROM scratch
            COPY --from=BUILD /a /a
            COPY --from=0 /b /b
            COPY --from=nginx:latest /c /c
            RUN --mount=type=bind,from=build,target=/src --mount=from=busybox,target=/bb true
            """,
            BuildOptions.defaults());

    PlannedStage last = plan.stage(1);
    assertThat(last.dependsOn()).containsExactly(0);
    assertThat(last.imageSources()).containsExactly("nginx:latest", "busybox");
    assertThat(last.dependencies())
        .extracting(Dependency::kind)
        .containsExactly(
            Dependency.Kind.COPY_FROM,
            Dependency.Kind.COPY_FROM,
            Dependency.Kind.COPY_FROM,
            Dependency.Kind.MOUNT_FROM,
            Dependency.Kind.MOUNT_FROM);
    assertThat(running(plan)).containsExactly("build", "stage-1");
  }

  @Test
  void circularDependenciesUseBuildKitsMessage() {
    assertThat(
            problem(
                "FROM busybox AS stage0\nCOPY --from=stage0 f1 /sub/\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile:2: circular dependency detected on stage: stage0");
    assertThat(
            problem(
                """
                FROM busybox AS stage0
                COPY --from=stage2 f1 /sub/
                FROM busybox AS stage1
                COPY --from=stage0 f2 /sub/
                FROM busybox AS stage2
                COPY --from=stage1 f2 /sub/
                """,
                BuildOptions.defaults()))
        .startsWith("Dockerfile:")
        .endsWith("circular dependency detected on stage: stage0");
    assertThat(problem("FROM busybox\nCOPY --from=0 a b\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile:2: circular dependency detected on stage: stage-0");
  }

  @Test
  void blankBasesAreErrors() {
    assertThat(problem("FROM \"\"\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile:1: base name (\"\") should not be blank");
    assertThat(problem("ARG BLANK\nFROM ${BLANK}\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile:2: base name (${BLANK}) should not be blank");
  }

  @Test
  void copyOfAUrlIsAnErrorButAddOfAUrlIsNot() {
    assertThat(problem("FROM a\nCOPY http://example.com/x /x\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile:2: source can't be a URL for COPY");
    assertThat(problem("FROM a\nCOPY https://github.com/a/b.git /x\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile:2: source can't be a git ref for COPY");
    assertThat(running(plan("FROM a\nADD http://example.com/x /x\n", BuildOptions.defaults())))
        .containsExactly("stage-0");
  }

  @Test
  void unreachableStagesAreNotCheckedLikeBuildKit() {
    BuildPlan plan =
        plan(
            "FROM a AS broken\nCOPY http://example.com/x /x\nFROM b AS fine\n",
            BuildOptions.defaults());

    assertThat(running(plan)).containsExactly("fine");
  }

  @Test
  void badFromReferencesAreErrors() {
    assertThat(problem("FROM a\nCOPY --from=5 x y\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile:2: invalid stage index 5");
    assertThat(problem("ARG S=a\nFROM a\nCOPY --from=$S x y\n", BuildOptions.defaults()))
        .isEqualTo(
            "Dockerfile:3: variable expansion is not supported for --from, define a new stage"
                + " with FROM using ARG from global scope as a workaround");
    assertThat(
            problem(
                "FROM a AS first\nCOPY --from=second x y\nFROM first AS second\n",
                BuildOptions.defaults()))
        .isEqualTo(
            "Dockerfile:2: cannot copy from stage \"second\", it needs to be defined before"
                + " current stage \"first\"");
  }

  @Test
  void laterStageNameInFromIsAnImageNotAnEdge() {
    BuildPlan plan = plan("FROM later AS first\nFROM alpine AS later\n", BuildOptions.defaults());

    assertThat(plan.stage(0).base()).isEqualTo(new StageBase.Image("later"));
    assertThat(running(plan)).containsExactly("later");
  }

  @Test
  void onbuildTriggersOfABaseStageRunFirstAndAddEdges() {
    BuildPlan plan =
        plan(
            """
            FROM alpine AS tools
            FROM alpine AS parent
            ONBUILD COPY --from=tools /bin/tool /bin/
            ONBUILD RUN tool --version
            FROM parent AS child
            RUN echo child
            """,
            BuildOptions.defaults());

    PlannedStage child = plan.target();
    assertThat(child.dependsOn()).containsExactly(0, 1);
    assertThat(child.instructions()).hasSize(3);
    assertThat(((RunInstruction) child.instructions().get(1)).command().args())
        .containsExactly("tool --version");
    assertThat(running(plan)).containsExactly("tools", "parent", "child");
  }

  @Test
  void emptyDockerfileOfGlobalArgsHasNoStages() {
    assertThat(problem("ARG A=1\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile: dockerfile contains no stages to build");
  }

  @Test
  void aWorkerPlansOneStageByIndexWithItsArgScope() {
    String dockerfile = "ARG V=1\nFROM a AS x\nCOPY http://bad /x\nFROM b\nARG V\nRUN echo $V\n";

    BuildPlan plan =
        StageGraph.planStage(
            Dockerfiles.parse(dockerfile),
            BuildOptions.defaults().withBuildArgs(Map.of("V", "7")),
            1);

    assertThat(plan.targetIndex()).isEqualTo(1);
    assertThat(plan.target().instructions()).hasSize(2);
    var scope = plan.scopeFor(1, List.of("PATH=/bin"), Map.of());
    plan.target().instructions().forEach(scope::apply);
    assertThat(scope.env()).containsEntry("V", "7").containsEntry("PATH", "/bin");
    assertThatThrownBy(() -> StageGraph.planStage(Dockerfiles.parse(dockerfile),
            BuildOptions.defaults(), 2))
        .isInstanceOf(DockerfileException.class)
        .hasMessageContaining("stage index 2 out of range");
  }

  @Test
  void mountFromALaterStageIsAnErrorWhenTheStageRuns() {
    assertThat(
            problem(
                "FROM a AS first\nRUN --mount=from=second,target=/s true\nFROM first AS second\n",
                BuildOptions.defaults()))
        .isEqualTo(
            "Dockerfile:2: cannot mount from stage \"second\", it needs to be defined before"
                + " current stage \"first\"");
  }

  @Test
  void platformFlagMustExpandToAPlatform() {
    assertThat(problem("ARG P\nFROM --platform=$P a\n", BuildOptions.defaults()))
        .isEqualTo("Dockerfile:2: empty platform value from expression $P");
    assertThat(problem("FROM --platform=linux a\n", BuildOptions.defaults()))
        .startsWith("Dockerfile:1: failed to parse platform linux: ");
  }

  @Test
  void planningOneStageAppliesTriggersEvenWhenTheDefaultTargetDoesNotReachIt() {
    String dockerfile =
        "FROM alpine AS parent\nONBUILD RUN echo trigger\nFROM parent AS child\nFROM alpine AS last\n";

    assertThat(Dockerfiles.plan(dockerfile, BuildOptions.defaults()).stage(2).instructions())
        .isEmpty();
    assertThat(Dockerfiles.planStage(dockerfile, BuildOptions.defaults(), 1).target().instructions())
        .singleElement()
        .isInstanceOf(RunInstruction.class);
  }
}
