package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.program.ContextFile;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.store.InMemoryContentStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Context entries are hostile input: they land under the op's directory or not at all. */
class ContextMaterialiserTest {
  @TempDir Path dir;
  private final InMemoryContentStore store = new InMemoryContentStore();
  private final ContextMaterialiser materialiser = new ContextMaterialiser(store);

  private ContextFile file(String path, String content, int mode) {
    Digest digest = store.putContext(content.getBytes(StandardCharsets.UTF_8));
    return new ContextFile(path, ContextFile.Type.FILE, mode, digest.toString(), content.length(), "", 1_000_000);
  }

  private static ContextFile directory(String path) {
    return new ContextFile(path, ContextFile.Type.DIRECTORY, 0750, "", 0, "", 2_000_000);
  }

  private static ContextFile symlink(String path, String target) {
    return new ContextFile(path, ContextFile.Type.SYMLINK, 0777, "", 0,
        target, 0);
  }

  @Test
  void writesTheSelectedEntriesWithTheirModesAndTimes() throws Exception {
    Path match = materialiser.materialise(new ContextSelection("src", "", List.of(directory(""), directory("a"),
        file("a/one.txt", "1", 0600), symlink("a/link", "one.txt"), file("b/two.txt", "2", 0644))), dir.resolve("m"));
    assertThat(Files.readString(match.resolve("a/one.txt"))).isEqualTo("1");
    assertThat((Integer) Files.getAttribute(match.resolve("a/one.txt"), "unix:mode") & 07777).isEqualTo(0600);
    assertThat(Files.readSymbolicLink(match.resolve("a/link"))).isEqualTo(Path.of("one.txt"));
    assertThat(Files.readString(match.resolve("b/two.txt"))).isEqualTo("2"); // its parent was not listed
    assertThat((Integer) Files.getAttribute(match.resolve("a"), "unix:mode") & 07777).isEqualTo(0750);
    assertThat(Files.getLastModifiedTime(match.resolve("a")).toMillis()).isEqualTo(2_000_000);
  }

  @Test
  void identicalContentsAreFetchedOnce() throws Exception {
    java.util.List<ContextFile> entries = new java.util.ArrayList<>(List.of(directory("")));
    for (int i = 0; i < 50; i++) {
      entries.add(file("pkg" + i + "/__init__.py", "", 0644));
    }
    entries.add(file("main.py", "print(1)", 0644));
    int before = store.contextReads();

    Path match = materialiser.materialise(new ContextSelection("", "", entries), dir.resolve("m"));

    assertThat(store.contextReads() - before).isEqualTo(2);
    assertThat(match.resolve("pkg49/__init__.py")).isEmptyFile();
    assertThat(match.resolve("main.py")).hasContent("print(1)");
    assertThat(dir.resolve("m.fetched")).doesNotExist();
  }

  @Test
  void aFileMatchIsTheFileItself() throws Exception {
    Path match = materialiser.materialise(new ContextSelection("x.txt", "x.txt", List.of(file("", "x", 0644))),
        dir.resolve("m"));
    assertThat(Files.readString(match)).isEqualTo("x");
  }

  @Test
  void refusesToWriteThroughASymlinkAnEarlierEntryPlanted() throws Exception {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    ContextSelection hostile = new ContextSelection("d", "", List.of(directory(""), symlink("link", outside.toString()),
        file("link/planted", "gotcha", 0644)));
    assertThatThrownBy(() -> materialiser.materialise(hostile, dir.resolve("m"))).isInstanceOf(UserError.class)
        .hasMessageContaining("link/planted");
    assertThat(outside.resolve("planted")).doesNotExist();

    ContextSelection overwrite = new ContextSelection("d", "", List.of(directory(""),
        symlink("f", outside.resolve("victim").toString()), file("f", "gotcha", 0644)));
    assertThatThrownBy(() -> materialiser.materialise(overwrite, dir.resolve("m2"))).isInstanceOf(UserError.class);
    assertThat(outside.resolve("victim")).doesNotExist();
  }

  @Test
  void refusesPathsThatAreNotCleanAndRelative() {
    for (String path : List.of("../escape", "/abs", "a/../../b", "a//b", "./a", "a/")) {
      ContextSelection bad = new ContextSelection("d", "", List.of(directory(""), file(path, "x", 0644)));
      assertThatThrownBy(() -> materialiser.materialise(bad, dir.resolve("m-" + Math.abs(path.hashCode()))))
          .as(path).isInstanceOf(UserError.class).hasMessageContaining("not a clean relative path");
    }
    assertThat(dir.resolve("escape")).doesNotExist();
    assertThat(Files.exists(Path.of("/abs"), LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void refusesEntriesUnderAFileMatchAndSelectionsWithoutTheirMatch() {
    ContextSelection underFile = new ContextSelection("f", "f", List.of(file("", "x", 0644), file("child", "y", 0644)));
    assertThatThrownBy(() -> materialiser.materialise(underFile, dir.resolve("m"))).isInstanceOf(UserError.class);
    ContextSelection noRoot = new ContextSelection("d", "", List.of(file("child", "y", 0644)));
    assertThatThrownBy(() -> materialiser.materialise(noRoot, dir.resolve("m2"))).isInstanceOf(UserError.class)
        .hasMessageContaining("no entry for the match");
  }
}
