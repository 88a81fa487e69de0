package dev.stagefarm.coordinator.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.ConfigDelta;
import dev.stagefarm.program.ContextFile;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.InputPath;
import dev.stagefarm.program.Mount;
import dev.stagefarm.program.Op;
import dev.stagefarm.program.OpSource;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.program.SymbolicMode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class StageCompilerTest {
  final TestBuild build = new TestBuild(TestContext.project());

  static Action.Exec exec(Op op) {
    return (Action.Exec) op.action().orElseThrow();
  }

  static Action.Copy copy(Op op) {
    return (Action.Copy) op.action().orElseThrow();
  }

  Op lastOp(String dockerfile) {
    return build.last(dockerfile).ops().getLast();
  }

  static List<String> contextPaths(Action.Copy copy) {
    return copy.sources().stream().map(s -> ((CopySource.FromContext) s).selection().path()).toList();
  }

  // --- one op per instruction ------------------------------------------------------------------

  @Test
  void everyInstructionIsOneOpWithItsLineTextAndHistory() {
    StageProgram program = build.last("FROM busybox AS app\nARG V=1\nENV E=$V\nRUN echo $V\nLABEL a=b\n");
    assertThat(program.base()).isEqualTo(new ProgramBase.Image("busybox" + TestBuild.PINNED));
    assertThat(program.stageName()).isEqualTo("app");
    assertThat(program.ops()).extracting(Op::source).containsExactly(
        new OpSource(2, "ARG V=1", "ARG"),
        new OpSource(3, "ENV E=$V", "ENV"),
        new OpSource(4, "RUN echo $V", "RUN"),
        new OpSource(5, "LABEL a=b", "LABEL"));
    // history as BuildKit writes it (HistoryTextTest has the details)
    assertThat(program.ops()).extracting(Op::createdBy)
        .containsExactly("ARG V=1", "ENV E=1", "RUN |1 V=1 /bin/sh -c echo $V", "LABEL a=b");
    Op arg = program.ops().get(0);
    assertThat(arg.config()).isEqualTo(ConfigDelta.NONE);
    assertThat(arg.action()).isEmpty();
    assertThat(program.ops().get(1).config().env()).containsExactly(new ConfigDelta.KeyValue("E", "1"));
  }

  // --- RUN -----------------------------------------------------------------------------------

  @Test
  void aRunIsWrappedInTheStagesShellWithTheEnvInScopeItsWorkdirAndUser() {
    List<Op> ops = build.last(
        """
        FROM busybox
        ARG V=1
        ENV E=2
        WORKDIR /app
        USER 1000
        SHELL ["/bin/bash", "-ec"]
        RUN echo $V
        RUN ["/bin/true", "x"]
        """).ops();
    Action.Exec shell = exec(ops.get(5));
    assertThat(shell.argv()).containsExactly("/bin/bash", "-ec", "echo $V");
    assertThat(shell.env()).containsExactly("PATH=/bin", "V=1", "E=2");
    assertThat(shell.cwd()).isEqualTo("/app");
    assertThat(shell.user()).isEqualTo("1000");
    assertThat(shell.network()).isEqualTo(Action.Network.DEFAULT);
    assertThat(shell.insecure()).isFalse();
    assertThat(exec(ops.get(6)).argv()).containsExactly("/bin/true", "x");
  }

  @Test
  void aRunWithoutShellOrWorkdirUsesBinShAtTheRoot() {
    Action.Exec run = exec(lastOp("FROM scratch\nRUN ls\n"));
    assertThat(run.argv()).containsExactly("/bin/sh", "-c", "ls");
    assertThat(run.cwd()).isEqualTo("/");
    assertThat(run.user()).isEmpty();
  }

  @Test
  void heredocsBecomeTheScriptOrAreHandedToTheShell() {
    assertThat(exec(lastOp("FROM busybox\nRUN <<EOF\necho hi\nEOF\n")).argv())
        .containsExactly("/bin/sh", "-c", "echo hi\n");
    assertThat(exec(lastOp("FROM busybox\nRUN cat <<EOF > /x\nhello\nEOF\n")).argv())
        .containsExactly("/bin/sh", "-c", "cat <<EOF > /x\nhello\nEOF");
  }

  @Test
  void aLoneHeredocWithAShebangIsAnExecutableFileUnderDevPipes() {
    // BuildKit's dispatchRun (testRunShebangHeredoc): Mkfile(name, 0755) mounted read-only at /dev/pipes/
    Op op = lastOp("FROM busybox\nRUN --mount=type=tmpfs,target=/t <<-SCRIPT\n\t#!/bin/awk -f\n\tBEGIN { print 1 }\nSCRIPT\n");
    Action.Exec run = exec(op);
    assertThat(run.argv()).containsExactly("/bin/sh", "-c", "/dev/pipes/SCRIPT");
    assertThat(run.mounts()).containsExactly(
        new Mount.Inline("/dev/pipes", List.of(new CopySource.Inline("SCRIPT",
            "#!/bin/awk -f\nBEGIN { print 1 }\n".getBytes(StandardCharsets.UTF_8))), 0755),
        new Mount.Tmpfs("/t", 0));
    assertThat(op.createdBy()).isEqualTo("RUN /bin/sh -c /dev/pipes/SCRIPT");
    // not lone, or no shebang: the shell gets it as before, with no mount
    assertThat(exec(lastOp("FROM busybox\nRUN cat <<EOF\n#!/bin/sh\nEOF\n")).mounts()).isEmpty();
    assertThat(exec(lastOp("FROM busybox\nRUN <<EOF\n echo #!\nEOF\n")).mounts()).isEmpty();
  }

  @Test
  void runMountsAreResolvedTargetsAbsoluteSourcesSelectedAndDefaultsFilledIn() {
    StageProgram program = build.last(
        """
        FROM busybox AS tools
        FROM busybox
        WORKDIR /w
        RUN --mount=type=bind,source=src,target=s \\
            --mount=type=bind,from=tools,source=/bin,target=/t \\
            --mount=type=cache,target=/root/.cache,from=tools,source=/var/cache,sharing=locked,mode=0700,uid=1,gid=2 \\
            --mount=type=cache,target=/go \\
            --mount=type=tmpfs,target=/tmp,size=64m \\
            --mount=type=secret,id=token \\
            --mount=type=secret,id=key,env=KEY \\
            --mount=type=ssh \\
            --network=none --security=insecure make
        """);
    Action.Exec run = exec(program.ops().getLast());
    InputPath toolsBin = new InputPath("stage:0", "/bin");
    assertThat(run.mounts()).hasSize(8);
    assertThat(run.mounts().get(0)).isInstanceOfSatisfying(Mount.Bind.class, bind -> {
      assertThat(bind.target()).isEqualTo("/w/s");
      assertThat(bind.readonly()).isTrue();
      ContextSelection src = ((Mount.FromContext) bind.source()).selection();
      assertThat(src.path()).isEqualTo("src");
      assertThat(src.entries()).extracting(ContextFile::path).contains("main.go", "pkg/util.go");
    });
    assertThat(run.mounts().get(1)).isEqualTo(new Mount.Bind("/t", true, new Mount.FromInput(toolsBin)));
    assertThat(run.mounts().get(2)).isEqualTo(new Mount.Cache("/root/.cache", false, "/root/.cache",
        Mount.Sharing.LOCKED, Optional.of(new InputPath("stage:0", "/var/cache")), OptionalInt.of(0700),
        OptionalInt.of(1), OptionalInt.of(2)));
    assertThat(run.mounts().get(3)).isEqualTo(new Mount.Cache("/go", false, "/go", Mount.Sharing.SHARED,
        Optional.empty(), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty()));
    assertThat(run.mounts().get(4)).isEqualTo(new Mount.Tmpfs("/tmp", 64L * 1024 * 1024));
    assertThat(run.mounts().get(5)).isEqualTo(new Mount.Secret("/run/secrets/token", "token", "", false,
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty()));
    assertThat(run.mounts().get(6)).isEqualTo(new Mount.Secret("", "key", "KEY", false,
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty()));
    assertThat(run.mounts().get(7)).isEqualTo(new Mount.Ssh("/run/buildkit/ssh_agent.0", "default", false));
    assertThat(run.network()).isEqualTo(Action.Network.NONE);
    assertThat(run.insecure()).isTrue();
    // the stage is read twice, and is an input once
    assertThat(program.inputs()).containsExactly(new ProgramInput("stage:0", TestBuild.KEY, "tools"));
  }

  @Test
  void aBindMountOfAMissingContextPathIsAnErrorAtItsLine() {
    assertThatThrownBy(() -> build.last("FROM busybox\nRUN --mount=type=bind,source=nope,target=/n ls /n\n"))
        .isInstanceOf(DockerfileException.class)
        .hasMessage("line 2: RUN --mount=type=bind: source \"nope\" not found in the build context");
  }

  // --- COPY / ADD ------------------------------------------------------------------------------

  @Test
  void aWildcardThatMatchesNothingIsNotAnErrorAndTheOtherSourcesAreStillCopied() {
    Action.Copy copy = copy(lastOp("FROM busybox\nCOPY a.txt nomatch* /x/\n"));
    assertThat(contextPaths(copy)).containsExactly("a.txt");
    assertThat(copy.dest()).isEqualTo("/x");
    assertThat(copy.destIsDir()).isTrue();
  }

  @Test
  void aPathThroughASymlinkedDirectoryIsFollowed() {
    Action.Copy copy = copy(lastOp("FROM busybox\nCOPY linkdir/inner.txt /x/\n"));
    ContextSelection inner = ((CopySource.FromContext) copy.sources().getFirst()).selection();
    assertThat(inner.placeAt()).isEqualTo("inner.txt");
    assertThat(inner.root().digest()).isEqualTo(TestContext.digest("inner"));
  }

  @Test
  void aMissingPathIsAnErrorNamingTheLineAndThePath() {
    assertThatThrownBy(() -> build.last("FROM busybox\n\nCOPY a.txt missing.txt /\n"))
        .isInstanceOf(DockerfileException.class)
        .hasMessage("line 3: COPY failed: \"missing.txt\" not found in the build context");
    assertThatThrownBy(() -> build.last("FROM busybox\nADD missing.tar /\n"))
        .hasMessage("line 2: ADD failed: \"missing.tar\" not found in the build context");
  }

  @Test
  void parentsWithAPivotPlaceTheMatchAtItsPathBelowThePivot() {
    Action.Copy copy = copy(lastOp("FROM busybox\nCOPY --parents src/./pkg/util.go src/./*.go /out\n"));
    assertThat(copy.sources()).extracting(s -> ((CopySource.FromContext) s).selection().placeAt())
        .containsExactly("pkg/util.go", "main.go");
    assertThat(copy.parents()).isTrue();
    assertThat(copy.destIsDir()).isTrue();
    // from another stage the worker expands it: the pivot stays in the path
    Action.Copy from = copy(lastOp("FROM busybox AS b\nFROM busybox\nCOPY --parents --from=b /usr/./lib/*.so /out/\n"));
    assertThat(from.sources()).containsExactly(new CopySource.FromInput(new InputPath("stage:0", "/usr/./lib/*.so")));
  }

  @Test
  void excludedContextEntriesAreLeftOutOfTheSelection() {
    Action.Copy copy = copy(lastOp("FROM busybox\nCOPY --exclude=pkg/*.txt src /src/\n"));
    ContextSelection src = ((CopySource.FromContext) copy.sources().getFirst()).selection();
    assertThat(src.entries()).extracting(ContextFile::path).containsExactly("", "main.go", "pkg", "pkg/util.go");
    assertThat(copy.exclude()).containsExactly("pkg/*.txt");
    // patterns are relative to what is copied, and "*" stays in its directory (patternmatcher)
    Action.Copy topLevel = copy(lastOp("FROM busybox\nCOPY --exclude=*.txt src /src/\n"));
    assertThat(((CopySource.FromContext) topLevel.sources().getFirst()).selection().entries())
        .extracting(ContextFile::path).contains("pkg/notes.txt");
  }

  @Test
  void chmodIsOctalWhenItStartsWithADigitElseSymbolicAndABadOneIsAnErrorAtItsLine() {
    assertThat(copy(lastOp("FROM busybox\nCOPY --chmod=0755 a.txt /a\n")).chmod()).hasValue(0755);
    assertThat(copy(lastOp("FROM busybox\nCOPY --chmod=0755 a.txt /a\n")).chmodSymbolic()).isEmpty();
    assertThat(copy(lastOp("FROM busybox\nCOPY a.txt /a\n")).chmod()).isEmpty();
    Action.Copy symbolic = copy(lastOp("FROM busybox\nARG M=u=rwX,go=rX\nCOPY --chmod=$M a.txt /a\n"));
    assertThat(symbolic.chmod()).isEmpty();
    assertThat(symbolic.chmodSymbolic()).contains(SymbolicMode.parse("u=rwX,go=rX"));
    assertThat(copy(lastOp("FROM busybox\nADD --chmod=+x a.txt /a\n")).chmodSymbolic())
        .contains(SymbolicMode.parse("+x"));
    assertThatThrownBy(() -> build.last("FROM busybox\nCOPY --chmod=u+q a.txt /a\n"))
        .isInstanceOf(DockerfileException.class)
        .hasMessage("line 2: COPY --chmod=u+q: invalid syntax");
    assertThatThrownBy(() -> build.last("FROM busybox\n\nADD --chmod=17777 a.txt /a\n"))
        .hasMessage("line 3: invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777");
    assertThatThrownBy(() -> build.last("FROM busybox\nCOPY --chmod=64a a.txt /a\n"))
        .hasMessage("line 2: invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777");
  }

  @Test
  void theDestinationIsAbsoluteAgainstTheWorkdirAndADirectoryWhenTheDockerfileSaysSo() {
    List<Op> ops = build.last(
        "FROM busybox\nWORKDIR /app\nCOPY a.txt .\nCOPY a.txt b\nCOPY a.txt b.txt sub\nCOPY src/*.go one.go\n").ops();
    assertThat(copy(ops.get(1))).extracting(Action.Copy::dest, Action.Copy::destIsDir)
        .containsExactly("/app", true);
    assertThat(copy(ops.get(2))).extracting(Action.Copy::dest, Action.Copy::destIsDir)
        .containsExactly("/app/b", false);
    assertThat(copy(ops.get(3))).extracting(Action.Copy::dest, Action.Copy::destIsDir)
        .containsExactly("/app/sub", true);
    // a wildcard alone does not make a directory (BuildKit's COPY f*.go foo2.go writes the file foo2.go)
    assertThat(contextPaths(copy(ops.get(4)))).containsExactly("src/main.go");
    assertThat(copy(ops.get(4)).destIsDir()).isFalse();
  }

  @Test
  void copyFromAStageOrAnImageNamesAPathInThatInput() {
    StageProgram program = build.last(
        "FROM busybox AS build\nFROM scratch\nCOPY --from=build /out/*.bin /bin/\nCOPY --from=0 /x /x\n"
            + "COPY --from=alpine:3 --chown=app:app /etc/os-release /\n");
    assertThat(program.ops()).extracting(op -> copy(op).sources().getFirst()).containsExactly(
        new CopySource.FromInput(new InputPath("stage:0", "/out/*.bin")),
        new CopySource.FromInput(new InputPath("stage:0", "/x")),
        new CopySource.FromInput(new InputPath("image:alpine:3" + TestBuild.PINNED, "/etc/os-release")));
    assertThat(copy(program.ops().getLast()).chown()).isEqualTo("app:app");
    assertThat(program.inputs()).extracting(ProgramInput::id, ProgramInput::name).containsExactly(
        org.assertj.core.groups.Tuple.tuple("stage:0", "build"),
        org.assertj.core.groups.Tuple.tuple("image:alpine:3" + TestBuild.PINNED, "alpine:3"));
  }

  @Test
  void heredocFilesAreInline() {
    Action.Copy copy = copy(lastOp("FROM busybox\nCOPY <<EOF /etc/x.conf\nhello\nEOF\n"));
    assertThat(copy.sources()).containsExactly(new CopySource.Inline("EOF", "hello\n".getBytes(StandardCharsets.UTF_8)));
    assertThat(copy.dest()).isEqualTo("/etc/x.conf");
    assertThat(copy.destIsDir()).isFalse();
  }

  @Test
  void addOfAUrlIsRemoteAndWithoutAChecksumBoundToThisBuild() {
    Action.Copy unverified = copy(lastOp("FROM busybox\nADD https://example.com/dl/tool.tgz /opt/\n"));
    assertThat(unverified.sources())
        .containsExactly(new CopySource.Remote("https://example.com/dl/tool.tgz", "", "tool.tgz", "build-1"));
    String checksum = "sha256:" + "a".repeat(64);
    Action.Copy verified = copy(lastOp("FROM busybox\nADD --checksum=" + checksum + " https://example.com/ /opt/\n"));
    assertThat(verified.sources())
        .containsExactly(new CopySource.Remote("https://example.com/", checksum, "__unnamed__", ""));
    assertThatThrownBy(() -> build.last("FROM busybox\nADD https://github.com/moby/buildkit.git /src\n"))
        .hasMessage("line 2: ADD of a git repository is not supported by stagefarm");
  }

  @Test
  void addUnpacksLocalArchivesUnlessToldAndCopyNever() {
    assertThat(copy(lastOp("FROM busybox\nADD a.txt /x/\n")).unpack()).isEqualTo(Action.Unpack.LOCAL);
    assertThat(copy(lastOp("FROM busybox\nADD --unpack=true a.txt /x/\n")).unpack()).isEqualTo(Action.Unpack.ALL);
    assertThat(copy(lastOp("FROM busybox\nADD --unpack=false a.txt /x/\n")).unpack()).isEqualTo(Action.Unpack.NEVER);
    assertThat(copy(lastOp("FROM busybox\nCOPY a.txt /x/\n")).unpack()).isEqualTo(Action.Unpack.NEVER);
  }

  // --- metadata --------------------------------------------------------------------------------

  @Test
  void exposeWritesOnePortPerPortOfARangeWithALowerCaseProtocol() {
    assertThat(lastOp("FROM busybox\nEXPOSE 7000-7002/udp 8080/TCP\n").config().exposedPorts())
        .containsExactly("7000/udp", "7001/udp", "7002/udp", "8080/tcp");
    assertThatThrownBy(() -> build.last("FROM busybox\nEXPOSE 80/xyz\n"))
        .hasMessage("line 2: invalid port: \"80/xyz\": invalid proto: xyz");
  }

  @Test
  void entrypointClearsTheInheritedCmdOnlyWhenTheStageSetNoCmdBefore() {
    List<Op> ops = build.last("FROM busybox\nENTRYPOINT [\"/a\"]\nCMD [\"x\"]\nENTRYPOINT /b\n").ops();
    assertThat(ops.get(0).config().resetCmd()).isTrue();
    assertThat(ops.get(1).config().cmd()).contains(List.of("x"));
    assertThat(ops.get(2).config().resetCmd()).isFalse();
    assertThat(ops.get(2).config().entrypoint()).contains(List.of("/bin/sh", "-c", "/b"));
  }

  @Test
  void shellFormCmdUsesTheShellInEffect() {
    assertThat(lastOp("FROM busybox\nSHELL [\"/bin/bash\", \"-c\"]\nCMD echo hi\n").config().cmd())
        .contains(List.of("/bin/bash", "-c", "echo hi"));
  }

  @Test
  void workdirIsADeltaAndAMkdirOwnedByTheCurrentUser() {
    List<Op> ops = build.last("FROM busybox\nUSER app\nWORKDIR rel\nWORKDIR ../other/./x\n").ops();
    assertThat(ops.get(1).config().workingDir()).contains("/rel");
    assertThat(ops.get(1).action()).contains(new Action.Mkdir("/rel", "app"));
    assertThat(ops.get(2).action()).contains(new Action.Mkdir("/other/x", "app"));
  }

  @Test
  void theOtherMetadataInstructionsAreDeltasOnly() {
    List<Op> ops = build.last(
        """
        FROM busybox
        VOLUME /data
        STOPSIGNAL SIGINT
        HEALTHCHECK NONE
        ONBUILD RUN echo later
        MAINTAINER someone
        """).ops();
    assertThat(ops).allMatch(op -> op.action().isEmpty());
    assertThat(ops.get(0).config().volumes()).containsExactly("/data");
    assertThat(ops.get(1).config().stopSignal()).contains("SIGINT");
    assertThat(ops.get(2).config().healthcheck().orElseThrow().test()).containsExactly("NONE");
    assertThat(ops.get(3).config().onBuild()).containsExactly("RUN echo later");
    assertThat(ops.get(4).config().author()).contains("someone");
  }

  // --- ONBUILD ---------------------------------------------------------------------------------

  @Test
  void onbuildTriggersOfTheBaseImageComeFirstAtTheFromLine() {
    build.image("app-base", c -> c.withOnBuild(List.of("RUN echo triggered", "COPY a.txt /app/")));
    StageProgram program = build.last("\nFROM app-base\nRUN ls /app\n");
    assertThat(program.ops()).extracting(Op::source).containsExactly(
        new OpSource(2, "RUN echo triggered", "RUN"),
        new OpSource(2, "COPY a.txt /app/", "COPY"),
        new OpSource(3, "RUN ls /app", "RUN"));
    assertThat(contextPaths(copy(program.ops().get(1)))).containsExactly("a.txt");
  }

  @Test
  void anOnbuildTriggerOfTheBaseImageFailsAtTheFromLine() {
    build.image("app-base", c -> c.withOnBuild(List.of("COPY missing.txt /app/")));
    assertThatThrownBy(() -> build.last("\n\nFROM app-base\nRUN ls\n"))
        .isInstanceOf(DockerfileException.class)
        .hasMessage("line 3: ONBUILD trigger \"COPY missing.txt /app/\" of base image app-base" + TestBuild.PINNED
            + ": COPY failed: \"missing.txt\" not found in the build context");
  }

  @Test
  void onbuildTriggersOfABaseStageRunFirstInTheStageBuiltOnIt() {
    List<StageProgram> programs = build.compile("FROM busybox AS base\nONBUILD COPY b.txt /b\nFROM base\nRUN cat /b\n");
    StageProgram child = programs.getLast();
    assertThat(child.base()).isEqualTo(new ProgramBase.Stage("0"));
    assertThat(child.ops()).extracting(Op::source).containsExactly(
        new OpSource(3, "COPY b.txt /b", "COPY"),
        new OpSource(4, "RUN cat /b", "RUN"));
  }

  @Test
  void aStageBuiltOnAnotherKeepsItsConfigAndArgs() {
    Action.Exec run = exec(lastOp(
        "FROM busybox AS base\nARG V=1\nENV E=2\nWORKDIR /w\nUSER app\nFROM base\nRUN true\n"));
    assertThat(run.env()).containsExactly("PATH=/bin", "E=2", "V=1");
    assertThat(run.cwd()).isEqualTo("/w");
    assertThat(run.user()).isEqualTo("app");
  }
}
