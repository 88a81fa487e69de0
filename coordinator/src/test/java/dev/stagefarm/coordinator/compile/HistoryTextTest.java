package dev.stagefarm.coordinator.compile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.Op;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** created_by texts as BuildKit's dispatchers write them (convert.go, convert_copy.go). */
class HistoryTextTest {
  final TestBuild build = new TestBuild(TestContext.project());

  List<String> history(String dockerfile) {
    return build.last(dockerfile).ops().stream().map(Op::createdBy).toList();
  }

  @Test
  void argsGetAnEntryAndRunListsEachArgOnceWithItsLastValue() {
    // BuildKit's dockerfile_history_test.go testExportedHistoryFlattenArgs
    assertThat(history("FROM busybox\nARG foo=bar\nARG bar=123\nARG foo=bar2\nRUN ls /etc/\n")).containsExactly(
        "ARG foo=bar", "ARG bar=123", "ARG foo=bar2", "RUN |2 foo=bar2 bar=123 /bin/sh -c ls /etc/");
  }

  @Test
  void anArgWithoutValueShowsEmptyAndAnEnvOfTheSameNameWinsInRun() {
    assertThat(history("FROM busybox\nARG A=1 B\nENV A=2\nRUN [\"true\"]\n"))
        .containsExactly("ARG A=1 B", "ENV A=2", "RUN |2 A=2 B= true");
  }

  @Test
  void aBuildArgOverridesTheDefaultInArgAndRun() {
    build.buildArgs.put("V", "from-cli");
    assertThat(history("FROM busybox\nARG V=default\nRUN echo\n"))
        .containsExactly("ARG V=from-cli", "RUN |1 V=from-cli /bin/sh -c echo");
  }

  @Test
  void aRunWithoutArgsIsItsArgvJoined() {
    // testExportedHistory: RUN echo bar > foo4, RUN ["ls"]
    assertThat(history("FROM busybox\nRUN echo bar > foo4\nRUN [\"ls\"]\n"))
        .containsExactly("RUN /bin/sh -c echo bar > foo4", "RUN ls");
  }

  @Test
  void aStageBuiltOnAnotherListsTheInheritedArgsFirstInDeclarationOrder() {
    List<String> history = history("FROM busybox AS base\nARG Z=1\nARG A=2\nFROM base\nARG M=3\nRUN true\n");
    assertThat(history).containsExactly("ARG M=3", "RUN |3 Z=1 A=2 M=3 /bin/sh -c true");
  }

  @Test
  void copyShowsParentsChownChmodSourcesHeredocsAndDestButNotFromLinkOrExclude() {
    assertThat(history("FROM busybox AS base\nFROM busybox\nCOPY --from=base foo2 foo3\n"))
        .containsExactly("COPY foo2 foo3");
    assertThat(history("FROM busybox\nARG U=1000\n"
        + "COPY --parents --link --exclude=*.tmp --chown=$U --chmod=755 a.txt <<EOF dst/\nhi\nEOF\n"))
        .containsExactly("ARG U=1000", "COPY --parents --chown=1000 --chmod=755 a.txt <<EOF dst/");
    assertThat(history("FROM busybox\nADD --chown=1:2 --checksum=sha256:" + "a".repeat(64)
        + " https://example.com/x.tgz /opt/\n"))
        .containsExactly("ADD --chown=1:2 https://example.com/x.tgz /opt/");
  }

  @Test
  void workdirIsTheResolvedAbsolutePath() {
    assertThat(history("FROM busybox\nWORKDIR /\nWORKDIR a\nWORKDIR ../b/./c\n"))
        .containsExactly("WORKDIR /", "WORKDIR /a", "WORKDIR /b/c");
  }

  @Test
  void envAndLabelArePairsExpanded() {
    assertThat(history("FROM busybox\nENV A=1 B=\"two words\"\nENV C $A\nLABEL x=$A \"y\"=z\n"))
        .containsExactly("ENV A=1 B=two words", "ENV C=1", "LABEL x=1 y=z");
  }

  @Test
  void cmdAndEntrypointAreGoQuotedArgv() {
    assertThat(history("FROM busybox\nCMD echo \"hi\" there\nENTRYPOINT [\"/bin/app\", \"-v\"]\n"))
        .containsExactly("CMD [\"/bin/sh\" \"-c\" \"echo \\\"hi\\\" there\"]", "ENTRYPOINT [\"/bin/app\" \"-v\"]");
  }

  @Test
  void exposeListsThePortsNormalisedInTheOrderOfTheSortedWords() {
    // testExportedHistory: EXPOSE 2375 5000 1234/udp
    assertThat(history("FROM busybox\nEXPOSE 2375 5000 1234/udp\nEXPOSE 7000-7001/UDP\n"))
        .containsExactly("EXPOSE [1234/udp 2375/tcp 5000/tcp]", "EXPOSE [7000/udp 7001/udp]");
  }

  @Test
  void theOtherMetadataInstructionsUseGoFormattingAndOnbuildWritesNone() {
    assertThat(history(
        """
        FROM busybox
        VOLUME /data /cache
        SHELL ["/bin/bash", "-c"]
        USER app:app
        STOPSIGNAL SIGINT
        MAINTAINER someone
        HEALTHCHECK --interval=90s --timeout=1500ms --retries=3 CMD curl -f http://localhost/
        HEALTHCHECK NONE
        ONBUILD RUN echo later
        """)).containsExactly(
            "VOLUME [/data /cache]",
            "SHELL [/bin/bash -c]",
            "USER app:app",
            "STOPSIGNAL SIGINT",
            "MAINTAINER someone",
            "HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:1m30s Timeout:1.5s StartPeriod:0s"
                + " StartInterval:0s Retries:3}",
            "HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}",
            "");
  }

  @Test
  void goDurationsReadAsTimeDurationString() {
    assertThat(GoFormat.duration(Duration.ZERO)).isEqualTo("0s");
    assertThat(GoFormat.duration(Duration.ofNanos(999))).isEqualTo("999ns");
    assertThat(GoFormat.duration(Duration.ofNanos(1_500))).isEqualTo("1.5µs");
    assertThat(GoFormat.duration(Duration.ofMillis(500))).isEqualTo("500ms");
    assertThat(GoFormat.duration(Duration.ofSeconds(3600))).isEqualTo("1h0m0s");
    assertThat(GoFormat.duration(Duration.ofSeconds(3661).plusMillis(250))).isEqualTo("1h1m1.25s");
  }
}
