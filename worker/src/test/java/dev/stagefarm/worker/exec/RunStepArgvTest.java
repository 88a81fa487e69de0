package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.dockerfile.instructions.CommandLine;
import dev.stagefarm.dockerfile.instructions.InlineFile;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunStepArgvTest {
  @Test
  void shellFormGoesThroughTheImageShellOrTheDefault() {
    CommandLine shell = new CommandLine(List.of("echo hi"), true, List.of());
    assertThat(RunStep.argv(shell, List.of())).containsExactly("/bin/sh", "-c", "echo hi");
    assertThat(RunStep.argv(shell, List.of("/bin/bash", "-eo", "pipefail", "-c")))
        .containsExactly("/bin/bash", "-eo", "pipefail", "-c", "echo hi");
  }

  @Test
  void execFormIsTakenAsIs() {
    assertThat(RunStep.argv(new CommandLine(List.of("/bin/echo", "a b"), false, List.of()), List.of("/bin/bash", "-c")))
        .containsExactly("/bin/echo", "a b");
  }

  @Test
  void aLoneHeredocIsTheScriptAndMoreComplexOnesAreReassembled() {
    InlineFile script = new InlineFile("EOF", "echo one\necho two\n", false);
    assertThat(RunStep.argv(new CommandLine(List.of("<<EOF"), true, List.of(script)), List.of()))
        .containsExactly("/bin/sh", "-c", "echo one\necho two\n");
    InlineFile input = new InlineFile("EOF", "hello\n", false);
    assertThat(RunStep.argv(new CommandLine(List.of("cat <<EOF > /out"), true, List.of(input)), List.of()))
        .containsExactly("/bin/sh", "-c", "cat <<EOF > /out\nhello\nEOF");
  }

  @Test
  void relativeWorkdirsJoinThePreviousOne() {
    assertThat(ConfigUpdates.workdir("", "app")).isEqualTo("/app");
    assertThat(ConfigUpdates.workdir("/srv", "app/../web")).isEqualTo("/srv/web");
    assertThat(ConfigUpdates.workdir("/srv", "/opt")).isEqualTo("/opt");
  }
}
