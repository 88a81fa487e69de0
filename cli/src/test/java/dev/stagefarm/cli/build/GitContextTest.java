package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkout of a local git context is bounded like an unpacked tarball context: entries and bytes. */
class GitContextTest {
  @TempDir Path dir;
  private Path repo;

  /** A repository whose tree is a directory and three files, 3 MiB of zeros together (a 3 KiB pack). */
  @BeforeEach
  void repository() throws Exception {
    repo = Files.createDirectories(dir.resolve("repo.git"));
    git("init", "--quiet", "-b", "main");
    Files.createDirectories(repo.resolve("d"));
    for (String name : List.of("a", "d/b", "d/c")) {
      Files.write(repo.resolve(name), new byte[1 << 20]);
    }
    git("add", "-A");
    git("commit", "--quiet", "-m", "zeros");
  }

  @Test
  void aCheckoutWithinTheLimitsIsWrittenOut() throws Exception {
    Path into = Files.createDirectories(dir.resolve("ok"));

    Path context = GitContext.parse(repo.toString()).checkout(into, 4, 3 << 20);

    assertThat(context.resolve("d/c")).hasSize(1 << 20);
    assertThat(context.resolve(".git")).doesNotExist();
  }

  @Test
  void aTreeOfMoreBytesThanTheLimitIsRefusedNamingItBeforeAnythingIsCheckedOut() throws Exception {
    Path into = Files.createDirectories(dir.resolve("bytes"));

    assertThatThrownBy(() -> GitContext.parse(repo + "#main").checkout(into, 1000, (3 << 20) - 1))
        .isInstanceOf(UserError.class)
        .hasMessage("the git context " + repo + "#main refused: its checkout has more than " + ((3 << 20) - 1)
            + " bytes, the limit");
    assertThat(checkedOut(into)).isEmpty();
  }

  @Test
  void aTreeOfMoreEntriesThanTheLimitIsRefusedNamingItBeforeAnythingIsCheckedOut() throws Exception {
    Path into = Files.createDirectories(dir.resolve("entries"));

    assertThatThrownBy(() -> GitContext.parse(repo.toString()).checkout(into, 3, 1L << 30))
        .isInstanceOf(UserError.class)
        .hasMessage("the git context " + repo + "#HEAD refused: its checkout has more than 3 files and directories,"
            + " the limit");
    assertThat(checkedOut(into)).isEmpty();
  }

  @Test
  void theDefaultLimitsAreATarballContexts() {
    assertThat(GitContext.MAX_BYTES).isEqualTo(TarContext.MAX_BYTES);
    assertThat(GitContext.MAX_ENTRIES).isEqualTo(TarContext.MAX_ENTRIES);
  }

  /** What is in {@code into} besides git's own directory. */
  private static List<Path> checkedOut(Path into) throws Exception {
    try (Stream<Path> files = Files.list(into)) {
      return files.filter(p -> !p.getFileName().toString().equals(".git")).toList();
    }
  }

  private void git(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("git", "-C", repo.toString(), "-c", "user.name=t", "-c",
        "user.email=t@example.com"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor()).as(output).isZero();
  }
}
