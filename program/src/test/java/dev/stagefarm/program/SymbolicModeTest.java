package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class SymbolicModeTest {
  @TempDir
  Path dir;

  /** Modes where BuildKit's BSD semantics and GNU chmod agree, on files and directories. */
  static List<Arguments> agreeWithGnuChmod() {
    List<String> modes = List.of("u+x", "+x", "-w", "a+X", "go-w", "u=rw,g=r,o=r", "u+rw,g+r,o-x,o+w", "u=rwX,go=rX",
        "g=u", "go=u-w", "o=g", "u-u", "g+o", "a=", "=r", "ug=rw,o=", "u+s", "g-s", "+t", "u+r-w+x", "a-X", "o+s",
        "u=,g=,o=", "a=rwx,g-w", "+rwx,u-x,g-r");
    List<Integer> startModes = List.of(0644, 0755, 0600, 0000, 0751);
    List<Arguments> out = new java.util.ArrayList<>();
    for (String mode : modes) {
      for (int start : startModes) {
        out.add(Arguments.of(mode, start, false));
        out.add(Arguments.of(mode, start, true));
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{0} on {1} (dir: {2})")
  @MethodSource("agreeWithGnuChmod")
  void givesWhatGnuChmodGives(String mode, int start, boolean directory) throws Exception {
    assertThat(SymbolicMode.parse(mode).apply(start, directory))
        .as("%s on %o", mode, start)
        .isEqualTo(gnuChmod(mode, start, directory));
  }

  @Test
  void bigXLooksAtTheModeBeforeTheWholeChangeAsBuildKitDoes() throws Exception {
    // GNU evaluates X against the mode changed so far and gives 0754 here; BuildKit 0744
    assertThat(SymbolicMode.parse("u+x,g+X").apply(0644, false)).isEqualTo(0744);
    assertThat(gnuChmod("u+x,g+X", 0644, false)).isEqualTo(0754);
    assertThat(SymbolicMode.parse("a+X").apply(0600, true)).isEqualTo(0711);
    assertThat(SymbolicMode.parse("a+X").apply(0600, false)).isEqualTo(0600);
  }

  @Test
  void equalsClearsTheSetIdBitsOfADirectoryAsBuildKitDoes() {
    // GNU chmod keeps a directory's set-gid bit for g=rx; BuildKit's setmode clears it
    assertThat(SymbolicMode.parse("g=rx").apply(02775, true)).isEqualTo(0755);
  }

  @Test
  void higherBitsOfTheModeAreKept() {
    assertThat(SymbolicMode.parse("a=r").apply(0100644, false)).isEqualTo(0100444);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "u", "u+x,", "x", "u+q", "+755", "755", "0", "ug", "u+x,,g+x", "a*x"})
  void anythingElseIsInvalidSyntax(String mode) {
    assertThatThrownBy(() -> SymbolicMode.parse(mode)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid syntax");
  }

  @Test
  void isAValueOfItsText() {
    assertThat(SymbolicMode.parse("u+x")).isEqualTo(SymbolicMode.parse("u+x")).hasToString("u+x");
    assertThat(SymbolicMode.parse("u+x").text()).isEqualTo("u+x");
  }

  /** The real chmod(1) with a umask of 0 (BuildKit applies none). */
  private int gnuChmod(String mode, int start, boolean directory) throws IOException, InterruptedException {
    Path target = dir.resolve("t-" + System.nanoTime());
    if (directory) {
      Files.createDirectory(target);
    } else {
      Files.createFile(target);
    }
    String script = "umask 0 && chmod " + Integer.toOctalString(start) + " \"$1\" && chmod -- \"$2\" \"$1\" && stat -c %a \"$1\"";
    Process p = new ProcessBuilder("sh", "-c", script, "sh", target.toString(), mode).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as("chmod %s: %s", mode, out).isZero();
    return Integer.parseInt(out, 8);
  }
}
