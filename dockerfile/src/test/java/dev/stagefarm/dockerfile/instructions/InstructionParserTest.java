package dev.stagefarm.dockerfile.instructions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.Dockerfiles;
import dev.stagefarm.dockerfile.parser.DockerfileParser;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InstructionParserTest {

  private static Instruction parseOne(String dockerfile) {
    return InstructionParser.parseInstruction(
        DockerfileParser.parse(dockerfile).ast().children().get(0));
  }

  private static String problem(String dockerfile) {
    try {
      Dockerfiles.parse(dockerfile);
    } catch (DockerfileException e) {
      return e.describe("Dockerfile");
    }
    throw new AssertionError("no error for: " + dockerfile);
  }

  @Test
  void stagesCollectTheirInstructionsAndGlobalArgsComeFirst() {
    DockerfileModel model =
        Dockerfiles.parse(
            """
            ARG BASE=alpine
            ARG V
            FROM --platform=$BUILDPLATFORM ${BASE}:3 AS Build
            RUN make
            FROM scratch
            COPY --from=build /out /
            """);

    assertThat(model.metaArgs()).hasSize(2);
    assertThat(model.metaArgs().get(0).args())
        .containsExactly(new ArgDefinition("BASE", "alpine"));
    assertThat(model.metaArgs().get(1).args()).containsExactly(new ArgDefinition("V", null));
    assertThat(model.stages()).hasSize(2);
    Stage build = model.stages().get(0);
    assertThat(build.name()).isEqualTo("build");
    assertThat(build.baseName()).isEqualTo("${BASE}:3");
    assertThat(build.platform()).isEqualTo("$BUILDPLATFORM");
    assertThat(build.origin().line()).isEqualTo(3);
    assertThat(build.instructions()).singleElement().isInstanceOf(RunInstruction.class);
    Stage last = model.stages().get(1);
    assertThat(last.name()).isNull();
    assertThat(last.displayName()).isEqualTo("stage-1");
    assertThat(model.stageNamed("BUILD")).contains(build);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "FROM a\\nFRM b|Dockerfile:2: unknown instruction: FRM",
        "RUN x|Dockerfile:1: no build stage in current context",
        "FROM a b|Dockerfile:1: FROM requires either one or three arguments",
        "FROM|Dockerfile:1: FROM requires either one or three arguments",
        "FROM a AS 1x|Dockerfile:1: invalid name for build stage: \"1x\", name can't start with"
            + " a number or contain symbols",
        "FROM --plat=x a|Dockerfile:1: unknown flag: --plat",
        "FROM a\\nCOPY --from a b|Dockerfile:2: missing a value on flag: from",
        "FROM a\\nCOPY --link=maybe a b|Dockerfile:2: expecting boolean value for flag link, not:"
            + " maybe",
        "FROM a\\nCOPY --from=x --from=y a b|Dockerfile:2: duplicate flag specified: from",
        "FROM a\\nCOPY --checksum=sha256:x a b|Dockerfile:2: unknown flag: --checksum",
        "FROM a\\nADD --from=x a b|Dockerfile:2: unknown flag: --from",
        "FROM a\\nRUN --network=bridge x|Dockerfile:2: unsupported network mode \"bridge\"",
        "FROM a\\nRUN --security=root x|Dockerfile:2: unsupported security mode \"root\"",
        "FROM a\\nRUN --mount=type=nfs x|Dockerfile:2: unsupported mount type \"nfs\"",
        "FROM a\\nRUN --mount=type=bind,mode=0700 x|Dockerfile:2: mode not allowed for \"bind\" type"
            + " mounts",
        "FROM a\\nRUN --mount=type=secret x|Dockerfile:2: invalid secret mount. one of source,"
            + " target required",
        "FROM a\\nRUN --mount=from=$X x|Dockerfile:2: 'from' doesn't support variable expansion,"
            + " define alias stage instead",
        "FROM a\\nRUN --mount=type=bind,size=1m x|Dockerfile:2: unexpected key 'size' for mount"
            + " type 'bind'",
        "FROM a\\nRUN --mount=type=bind,sharing=locked x|Dockerfile:2: invalid cache sharing set"
            + " for bind mount",
        "FROM a\\nRUN --mount=type=cache,foo=bar x|Dockerfile:2: unexpected key 'foo' in 'foo=bar'",
        "FROM a\\nSHELL /bin/bash -c|Dockerfile:2: SHELL requires the arguments to be in JSON form",
        "FROM a\\nHEALTHCHECK NONE x|Dockerfile:2: HEALTHCHECK NONE takes no arguments",
        "FROM a\\nHEALTHCHECK CONNECT TCP 7000|Dockerfile:2: Unknown type \"CONNECT\" in"
            + " HEALTHCHECK (try CMD)",
        "FROM a\\nHEALTHCHECK CMD|Dockerfile:2: Missing command after HEALTHCHECK CMD",
        "FROM a\\nHEALTHCHECK --interval=1us CMD x|Dockerfile:2: Interval \"interval\" cannot be"
            + " less than 1ms",
        "FROM a\\nHEALTHCHECK --retries=-1 CMD x|Dockerfile:2: --retries cannot be negative (-1)",
        "FROM a\\nHEALTHCHECK --timeout=5 CMD x|Dockerfile:2: time: missing unit in duration"
            + " \"5\"",
        "FROM a\\nARG =x|Dockerfile:2: ARG names can not be blank",
        "FROM a\\nUSER|Dockerfile:2: USER requires exactly one argument",
        "FROM a\\nSTOPSIGNAL|Dockerfile:2: STOPSIGNAL requires exactly one argument",
        "FROM a\\nVOLUME [\"\"]|Dockerfile:2: VOLUME specified can not be an empty string",
        "FROM a\\nENV|Dockerfile:2: ENV requires at least one argument",
      })
  void invalidInstructionsGiveBuildKitsMessageAtTheirLine(String dockerfile, String message) {
    assertThat(problem(dockerfile.replace("\\n", "\n"))).isEqualTo(message);
  }

  @Test
  void runCollectsMountsNetworkAndSecurity() {
    RunInstruction run =
        (RunInstruction)
            parseOne(
                "RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755,uid=1"
                    + " --mount=type=secret,id=tok,env=TOKEN,required"
                    + " --mount=type=bind,from=build,source=/out,target=/in,rw"
                    + " --mount=type=tmpfs,target=/tmp,size=64m"
                    + " --mount=type=ssh"
                    + " --network=none --security=insecure make all");

    assertThat(run.command()).isEqualTo(new CommandLine(List.of("make all"), true, List.of()));
    assertThat(run.network()).isEqualTo(NetworkMode.NONE);
    assertThat(run.security()).isEqualTo(SecurityMode.INSECURE);
    assertThat(run.flagsUsed()).containsExactly("mount", "network", "security");
    assertThat(run.mounts()).hasSize(5);
    RunMount cache = run.mounts().get(0);
    assertThat(cache.type()).isEqualTo(MountType.CACHE);
    assertThat(cache.target()).isEqualTo("/root/.cache");
    assertThat(cache.id()).isEqualTo("pip");
    assertThat(cache.sharing()).isEqualTo(CacheSharing.LOCKED);
    assertThat(cache.mode()).isEqualTo(0755);
    assertThat(cache.uid()).isEqualTo(1L);
    assertThat(cache.readOnly()).isFalse();
    RunMount secret = run.mounts().get(1);
    assertThat(secret.type()).isEqualTo(MountType.SECRET);
    assertThat(secret.env()).isEqualTo("TOKEN");
    assertThat(secret.required()).isTrue();
    assertThat(secret.readOnly()).isTrue();
    RunMount bind = run.mounts().get(2);
    assertThat(bind.from()).isEqualTo("build");
    assertThat(bind.source()).isEqualTo("/out");
    assertThat(bind.readOnly()).isFalse();
    assertThat(run.mounts().get(3).sizeLimit()).isEqualTo(64L * 1024 * 1024);
    assertThat(run.mounts().get(4).type()).isEqualTo(MountType.SSH);
  }

  @Test
  void runDefaultsAndExecForm() {
    RunInstruction run = (RunInstruction) parseOne("RUN [\"echo\", \"a b\"]");

    assertThat(run.command()).isEqualTo(new CommandLine(List.of("echo", "a b"), false, List.of()));
    assertThat(run.network()).isEqualTo(NetworkMode.DEFAULT);
    assertThat(run.security()).isEqualTo(SecurityMode.SANDBOX);
    assertThat(run.mounts()).isEmpty();
  }

  @Test
  void copyAndAddFlags() {
    CopyInstruction copy =
        (CopyInstruction)
            parseOne(
                "COPY --from=build --chown=app:app --chmod=0644 --link --parents"
                    + " --exclude=*.md --exclude=tmp a b /dst/");
    assertThat(copy.from()).isEqualTo("build");
    assertThat(copy.chown()).isEqualTo("app:app");
    assertThat(copy.chmod()).isEqualTo("0644");
    assertThat(copy.link()).isTrue();
    assertThat(copy.parents()).isTrue();
    assertThat(copy.excludes()).containsExactly("*.md", "tmp");
    assertThat(copy.files().sourcePaths()).containsExactly("a", "b");
    assertThat(copy.files().destPath()).isEqualTo("/dst/");

    AddInstruction add =
        (AddInstruction)
            parseOne(
                "ADD --checksum=sha256:abc --keep-git-dir=false --unpack --link"
                    + " https://example.com/a.tar.gz /x");
    assertThat(add.checksum()).isEqualTo("sha256:abc");
    assertThat(add.keepGitDir()).isFalse();
    assertThat(add.unpack()).isTrue();
    assertThat(add.link()).isTrue();
    AddInstruction plain = (AddInstruction) parseOne("ADD a /x");
    assertThat(plain.keepGitDir()).isNull();
    assertThat(plain.unpack()).isNull();
  }

  @Test
  void envAndLabelInBothForms() {
    EnvInstruction env = (EnvInstruction) parseOne("ENV A=1 B=\"two words\"");
    assertThat(env.pairs())
        .containsExactly(new KeyValue("A", "1", false), new KeyValue("B", "\"two words\"", false));
    EnvInstruction legacy = (EnvInstruction) parseOne("ENV NAME some value");
    assertThat(legacy.pairs()).containsExactly(new KeyValue("NAME", "some value", true));
    LabelInstruction label = (LabelInstruction) parseOne("LABEL a.b=c \"x y\"=z");
    assertThat(label.labels())
        .containsExactly(new KeyValue("a.b", "c", false), new KeyValue("\"x y\"", "z", false));
  }

  @Test
  void argWithAndWithoutDefaultsSeveralPerLine() {
    ArgInstruction arg = (ArgInstruction) parseOne("ARG A B=2 C=\"x y\"");

    assertThat(arg.args())
        .containsExactly(
            new ArgDefinition("A", null),
            new ArgDefinition("B", "2"),
            new ArgDefinition("C", "\"x y\""));
  }

  @Test
  void metadataInstructions() {
    assertThat(((WorkdirInstruction) parseOne("WORKDIR /app")).path()).isEqualTo("/app");
    assertThat(((UserInstruction) parseOne("USER app:app")).user()).isEqualTo("app:app");
    assertThat(((ExposeInstruction) parseOne("EXPOSE 8080/udp 443 80")).ports())
        .containsExactly("443", "80", "8080/udp");
    assertThat(((VolumeInstruction) parseOne("VOLUME /a /b")).volumes()).containsExactly("/a", "/b");
    assertThat(((VolumeInstruction) parseOne("VOLUME [\"/c\"]")).volumes()).containsExactly("/c");
    assertThat(((StopSignalInstruction) parseOne("STOPSIGNAL SIGKILL")).signal())
        .isEqualTo("SIGKILL");
    assertThat(((MaintainerInstruction) parseOne("MAINTAINER me")).maintainer()).isEqualTo("me");
    assertThat(((ShellInstruction) parseOne("SHELL [\"bash\", \"-c\"]")).shell())
        .containsExactly("bash", "-c");
    assertThat(((CmdInstruction) parseOne("CMD echo hi")).command())
        .isEqualTo(new CommandLine(List.of("echo hi"), true, List.of()));
    assertThat(((EntrypointInstruction) parseOne("ENTRYPOINT [\"/app\"]")).command())
        .isEqualTo(new CommandLine(List.of("/app"), false, List.of()));
    assertThat(((EntrypointInstruction) parseOne("ENTRYPOINT []")).command().args()).isEmpty();
  }

  @Test
  void healthcheckOptions() {
    HealthcheckInstruction check =
        (HealthcheckInstruction)
            parseOne(
                "HEALTHCHECK --interval=5s --timeout=1m30s --start-period=500ms"
                    + " --start-interval=2s --retries=3 CMD curl -f http://localhost/");
    assertThat(check.test()).containsExactly("CMD-SHELL", "curl -f http://localhost/");
    assertThat(check.interval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(check.timeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(check.startPeriod()).isEqualTo(Duration.ofMillis(500));
    assertThat(check.startInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(check.retries()).isEqualTo(3);

    HealthcheckInstruction exec = (HealthcheckInstruction) parseOne("HEALTHCHECK CMD [\"/ok\"]");
    assertThat(exec.test()).containsExactly("CMD", "/ok");
    assertThat(((HealthcheckInstruction) parseOne("HEALTHCHECK NONE")).isNone()).isTrue();
  }

  @Test
  void onbuildKeepsItsTriggerExpression() {
    OnbuildInstruction onbuild = (OnbuildInstruction) parseOne("ONBUILD RUN echo \"built\"");

    assertThat(onbuild.expression()).isEqualTo("RUN echo \"built\"");
    assertThat(onbuild.trigger(7)).isInstanceOf(RunInstruction.class);
    assertThat(((RunInstruction) onbuild.trigger(7)).command().args())
        .containsExactly("echo \"built\"");
  }

  @Test
  void copyHeredocAfterContinuationKeepsLineRange() {
    DockerfileModel model = Dockerfiles.parse("FROM a\nCOPY <<EOF \\\n  /x\nhello\nEOF\n");

    CopyInstruction copy = (CopyInstruction) model.stages().get(0).instructions().get(0);
    assertThat(copy.line()).isEqualTo(2);
    assertThat(copy.endLine()).isEqualTo(5);
    assertThat(copy.files().sourceContents())
        .containsExactly(new SourceContent("EOF", "hello\n", true));
  }

  @Test
  void copyHeredocSourceIsNamedAsTheParserLexedIt() {
    // The escape is lexed away, as the parser did when it looked for the terminator.
    CopyInstruction copy = (CopyInstruction) parseOne("COPY <<E\\OF /x\nhello\nEOF\n");

    assertThat(copy.files().sourcePaths()).isEmpty();
    assertThat(copy.files().sourceContents())
        .containsExactly(new SourceContent("EOF", "hello\n", true));
  }

  @Test
  void copyWordThatCannotBeLexedAsHeredocIsAPath() {
    // BuildKit's MustParseHeredoc drops the lexing error: the word is an ordinary source.
    CopyInstruction copy = (CopyInstruction) parseOne("COPY <<'EOF /x\n");

    assertThat(copy.files().sourcePaths()).containsExactly("<<'EOF");
    assertThat(copy.files().sourceContents()).isEmpty();
  }
}
