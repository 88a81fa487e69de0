package dev.stagefarm.dockerfile.instructions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.Dockerfiles;
import dev.stagefarm.dockerfile.shell.ShellLex;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Execution-time expansion: which words each instruction expands, and with which variables. */
class StageScopeTest {

  private static List<Instruction> run(
      String dockerfile, StageScope scope) {
    List<Instruction> out = new ArrayList<>();
    for (Instruction i : Dockerfiles.parse(dockerfile).stages().get(0).instructions()) {
      out.add(scope.apply(i));
    }
    return out;
  }

  private static StageScope scope(Map<String, String> globals, Map<String, String> buildArgs) {
    return new StageScope(
        new ShellLex('\\'), List.of("HOME=/root"), Map.of(), globals, buildArgs);
  }

  @Test
  void envAndArgValuesFlowIntoLaterInstructions() {
    StageScope scope = scope(Map.of("VERSION", "1.2"), Map.of());
    List<Instruction> out =
        run(
            """
            FROM a
            ARG VERSION
            ARG DIR=/opt/app-${VERSION}
            ENV APP_DIR=$DIR GREETING="hello world"
            WORKDIR $APP_DIR/bin
            COPY --chown=${USER_ID:-1000} src/${VERSION}/ $APP_DIR/
            USER ${USER_ID:-app}
            LABEL "version"=$VERSION home=$HOME
            EXPOSE $PORTS 80
            VOLUME $APP_DIR/data
            STOPSIGNAL ${SIG:-SIGTERM}
            RUN echo $DIR
            """,
            scope);

    assertThat(((ArgInstruction) out.get(0)).args()).containsExactly(new ArgDefinition("VERSION", "1.2"));
    assertThat(((ArgInstruction) out.get(1)).args())
        .containsExactly(new ArgDefinition("DIR", "/opt/app-1.2"));
    assertThat(((EnvInstruction) out.get(2)).pairs())
        .containsExactly(
            new KeyValue("APP_DIR", "/opt/app-1.2", false),
            new KeyValue("GREETING", "hello world", false));
    assertThat(((WorkdirInstruction) out.get(3)).path()).isEqualTo("/opt/app-1.2/bin");
    CopyInstruction copy = (CopyInstruction) out.get(4);
    assertThat(copy.chown()).isEqualTo("1000");
    assertThat(copy.files().sourcePaths()).containsExactly("src/1.2/");
    assertThat(copy.files().destPath()).isEqualTo("/opt/app-1.2/");
    assertThat(((UserInstruction) out.get(5)).user()).isEqualTo("app");
    assertThat(((LabelInstruction) out.get(6)).labels())
        .containsExactly(new KeyValue("version", "1.2", false), new KeyValue("home", "/root", false));
    assertThat(((ExposeInstruction) out.get(7)).ports()).containsExactly("80");
    assertThat(((VolumeInstruction) out.get(8)).volumes()).containsExactly("/opt/app-1.2/data");
    assertThat(((StopSignalInstruction) out.get(9)).signal()).isEqualTo("SIGTERM");
    // The frontend leaves RUN to the shell, which sees ARG and ENV values in its environment.
    assertThat(((RunInstruction) out.get(10)).command().args()).containsExactly("echo $DIR");
    assertThat(scope.env())
        .containsEntry("DIR", "/opt/app-1.2")
        .containsEntry("APP_DIR", "/opt/app-1.2")
        .containsEntry("PATH", StageScope.DEFAULT_PATH);
    assertThat(scope.imageEnv())
        .containsExactly(
            "HOME=/root", "PATH=" + StageScope.DEFAULT_PATH, "APP_DIR=/opt/app-1.2",
            "GREETING=hello world");
    assertThat(scope.argValues()).containsOnlyKeys("VERSION", "DIR");
  }

  @Test
  void buildArgsOverrideDefaultsAndUndeclaredArgsStayOutOfScope() {
    StageScope scope = scope(Map.of(), Map.of("MODE", "release", "UNUSED", "x"));
    List<Instruction> out =
        run("FROM a\nARG MODE=debug\nARG OTHER\nWORKDIR /$MODE$UNUSED$OTHER\n", scope);

    assertThat(((ArgInstruction) out.get(0)).args())
        .containsExactly(new ArgDefinition("MODE", "release"));
    assertThat(((ArgInstruction) out.get(1)).args()).containsExactly(new ArgDefinition("OTHER", null));
    assertThat(((WorkdirInstruction) out.get(2)).path()).isEqualTo("/release");
  }

  @Test
  void envIsExpandedWithTheScopeBeforeTheInstruction() {
    // BuildKit expands the whole ENV first: B sees the old A, not the one set on this line.
    List<Instruction> out = run("FROM a\nENV A=1\nENV A=2 B=$A\n", scope(Map.of(), Map.of()));

    assertThat(((EnvInstruction) out.get(1)).pairs())
        .containsExactly(new KeyValue("A", "2", false), new KeyValue("B", "1", false));
  }

  @Test
  void runMountOptionsAreExpanded() {
    List<Instruction> out =
        run(
            "FROM a\nARG CACHE=/var/cache/apt\nRUN --mount=type=cache,target=$CACHE,id=${CACHE}-id"
                + " apt-get update\n",
            scope(Map.of(), Map.of()));

    RunInstruction run = (RunInstruction) out.get(1);
    assertThat(run.mounts()).singleElement().satisfies(m -> {
      assertThat(m.target()).isEqualTo("/var/cache/apt");
      assertThat(m.id()).isEqualTo("/var/cache/apt-id");
    });
  }

  @Test
  void copyHeredocBodiesExpandUnlessTheirWordIsQuoted() {
    List<Instruction> out =
        run(
            "FROM a\nARG NAME=world\nCOPY <<EOF <<'RAW' /dst/\nhello \"$NAME\"\nEOF\n$NAME\nRAW\n",
            scope(Map.of(), Map.of()));

    CopyInstruction copy = (CopyInstruction) out.get(1);
    assertThat(copy.files().sourceContents())
        .containsExactly(
            new SourceContent("EOF", "hello \"world\"\n", true),
            new SourceContent("RAW", "$NAME\n", false));
  }

  @Test
  void copyOfAUrlIsRejectedAfterExpansion() {
    StageScope scope = scope(Map.of(), Map.of());

    assertThatThrownBy(
            () -> run("FROM a\nARG SRC=http://example.com/x\nCOPY $SRC /x\n", scope))
        .isInstanceOf(DockerfileException.class)
        .hasMessage("line 3: source can't be a URL for COPY");
  }

  @Test
  void expansionErrorsNameTheLine() {
    assertThatThrownBy(
            () -> run("FROM a\nWORKDIR ${DIR:?must be set}\n", scope(Map.of(), Map.of())))
        .isInstanceOf(DockerfileException.class)
        .satisfies(e -> assertThat(((DockerfileException) e).line()).isEqualTo(2))
        .hasMessageContaining("DIR: must be set");
  }

  @Test
  void inheritedArgsAndPathFromTheBaseAreKept() {
    StageScope scope =
        new StageScope(
            new ShellLex('\\'), List.of("PATH=/custom"), Map.of("FROM_PARENT", "p"), Map.of(),
            Map.of());

    assertThat(scope.env()).containsEntry("PATH", "/custom").containsEntry("FROM_PARENT", "p");
    assertThat(scope.imageEnv()).containsExactly("PATH=/custom");
  }

  @Test
  void stopSignalAndAddChecksumAreCheckedWhenExecuted() {
    StageScope scope = scope(Map.of(), Map.of());
    assertThat(((StopSignalInstruction) run("FROM a\nSTOPSIGNAL sigusr1\n", scope).get(0)).signal())
        .isEqualTo("sigusr1");
    assertThat(((StopSignalInstruction) run("FROM a\nSTOPSIGNAL 9\n", scope).get(0)).signal())
        .isEqualTo("9");
    assertThatThrownBy(() -> run("FROM a\nSTOPSIGNAL SIGNOPE\n", scope))
        .hasMessage("line 2: invalid signal: SIGNOPE");
    assertThatThrownBy(() -> run("FROM a\nADD --checksum=sha256:ab a b /x/\n", scope))
        .hasMessage("line 2: checksum can't be specified for multiple sources");
    assertThatThrownBy(() -> run("FROM a\nADD --checksum=sha256:ab a /x/\n", scope))
        .hasMessage("line 2: checksum requires HTTP(S) or Git sources");
    assertThat(run("FROM a\nADD --checksum=sha256:ab https://e.com/f /x/\n", scope)).hasSize(1);
  }
}
