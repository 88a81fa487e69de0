package dev.stagefarm.coordinator.compile;

import dev.stagefarm.program.ExcludePatterns;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.program.ContextFile;
import dev.stagefarm.program.ContextSelection;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContextSelectorTest {
  final ContextSelector context =
      TestContext.project()
          .file("c.md", "c")
          .symlink("up", "../../realdir/inner.txt")
          .symlink("abs", "/realdir")
          .symlink("dangling", "nowhere")
          .symlink("loop1", "loop2")
          .symlink("loop2", "loop1")
          .selector();

  static List<String> paths(ContextSelection selection) {
    return selection.entries().stream().map(ContextFile::path).toList();
  }

  @Test
  void aFileIsSelectedAloneAndLandsUnderItsName() {
    List<ContextSelection> selected = context.select("src/main.go", ExcludePatterns.NONE);
    assertThat(selected).singleElement().satisfies(s -> {
      assertThat(s.path()).isEqualTo("src/main.go");
      assertThat(s.placeAt()).isEqualTo("main.go");
      assertThat(paths(s)).containsExactly("");
      assertThat(s.root().digest()).isEqualTo(TestContext.digest("main"));
      assertThat(s.root().mode()).isEqualTo(0644);
    });
  }

  @Test
  void aDirectoryIsSelectedWithEverythingUnderItAndItsContentsAreCopied() {
    ContextSelection src = context.select("./src/", ExcludePatterns.NONE).getFirst();
    assertThat(src.path()).isEqualTo("src");
    assertThat(src.placeAt()).isEmpty();
    assertThat(paths(src)).containsExactly("", "main.go", "pkg", "pkg/notes.txt", "pkg/util.go");
    assertThat(src.root().isDirectory()).isTrue();
  }

  @Test
  void theWholeContextHasADirectoryRootEvenThoughTheManifestListsNone() {
    ContextSelection all = context.select(".", ExcludePatterns.NONE).getFirst();
    assertThat(all.path()).isEmpty();
    assertThat(all.root()).isEqualTo(new ContextFile("", ContextFile.Type.DIRECTORY, 0755, "", 0, "", 0));
    assertThat(paths(all)).contains("a.txt", "linkdir", "src/pkg/util.go");
    // links inside a copied directory stay links
    assertThat(all.entries()).filteredOn(e -> e.path().equals("linkdir"))
        .singleElement().extracting(ContextFile::type).isEqualTo(ContextFile.Type.SYMLINK);
  }

  @Test
  void aPathThroughADirectorySymlinkIsFollowed() {
    ContextSelection inner = context.select("linkdir/inner.txt", ExcludePatterns.NONE).getFirst();
    assertThat(inner.path()).isEqualTo("linkdir/inner.txt");
    assertThat(inner.placeAt()).isEqualTo("inner.txt");
    assertThat(inner.root().type()).isEqualTo(ContextFile.Type.FILE);
    assertThat(inner.root().digest()).isEqualTo(TestContext.digest("inner"));
  }

  @Test
  void aSymlinkSourceIsFollowedToWhatItNamesInsideTheContext() {
    // "../.." cannot leave the context: it stops at the root
    ContextSelection up = context.select("up", ExcludePatterns.NONE).getFirst();
    assertThat(up.placeAt()).isEqualTo("up");
    assertThat(up.root().digest()).isEqualTo(TestContext.digest("inner"));

    ContextSelection abs = context.select("abs", ExcludePatterns.NONE).getFirst();
    assertThat(abs.placeAt()).isEmpty();
    assertThat(paths(abs)).containsExactly("", "inner.txt");
  }

  @Test
  void aWildcardMatchesEntriesAtItsDepthInNameOrder() {
    assertThat(context.select("*.txt", ExcludePatterns.NONE))
        .extracting(ContextSelection::path, ContextSelection::placeAt)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("a.txt", "a.txt"),
            org.assertj.core.groups.Tuple.tuple("b.txt", "b.txt"));
    assertThat(context.select("src/*/*.go", ExcludePatterns.NONE))
        .extracting(ContextSelection::path).containsExactly("src/pkg/util.go");
    // the literal prefix follows links; the match is named by where it was found
    assertThat(context.select("linkdir/*.txt", ExcludePatterns.NONE))
        .extracting(ContextSelection::path, ContextSelection::placeAt)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("realdir/inner.txt", "inner.txt"));
  }

  @Test
  void aWildcardThatMatchesNothingSelectsNothingWithoutAnError() {
    assertThat(context.select("nomatch*", ExcludePatterns.NONE)).isEmpty();
    assertThat(context.select("src/*.rs", ExcludePatterns.NONE)).isEmpty();
  }

  @Test
  void aPathThatNamesNothingIsAnError() {
    assertThatThrownBy(() -> context.select("missing.txt", ExcludePatterns.NONE))
        .isInstanceOf(ContextSelector.SourceNotFoundException.class)
        .hasMessage("\"missing.txt\" not found in the build context");
    assertThatThrownBy(() -> context.select("dangling", ExcludePatterns.NONE))
        .hasMessage("\"dangling\" not found in the build context");
    assertThatThrownBy(() -> context.select("nodir/*.txt", ExcludePatterns.NONE))
        .hasMessage("\"nodir/*.txt\" not found in the build context");
    assertThatThrownBy(() -> context.select("loop1", ExcludePatterns.NONE))
        .hasMessageContaining("too many levels of symbolic links");
  }

  @Test
  void excludePatternsDropEntriesByTheirPathBelowTheMatch() {
    ContextSelection src = context.select("src", ExcludePatterns.of(List.of("pkg/*.txt"))).getFirst();
    assertThat(paths(src)).containsExactly("", "main.go", "pkg", "pkg/util.go");

    // a dropped directory takes its contents along, unless a later ! pattern brings one back
    ContextSelection reincluded = context.select("src", ExcludePatterns.of(List.of("pkg", "!pkg/util.go"))).getFirst();
    assertThat(paths(reincluded)).containsExactly("", "main.go", "pkg", "pkg/util.go");
    assertThat(paths(context.select("src", ExcludePatterns.of(List.of("pkg"))).getFirst())).containsExactly("", "main.go");
    // "**" crosses directories
    assertThat(paths(context.select(".", ExcludePatterns.of(List.of("**/*.go"))).getFirst()))
        .doesNotContain("src/main.go", "src/pkg/util.go").contains("src/pkg/notes.txt");
  }

  @Test
  void parentsKeepThePathBelowThePivotOrTheWholePathWithoutOne() {
    assertThat(context.selectWithParents("src/./pkg/util.go", ExcludePatterns.NONE))
        .extracting(ContextSelection::path, ContextSelection::placeAt)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("src/pkg/util.go", "pkg/util.go"));
    assertThat(context.selectWithParents("src/pkg/*.go", ExcludePatterns.NONE))
        .extracting(ContextSelection::placeAt).containsExactly("src/pkg/util.go");
    assertThat(context.selectWithParents("./src/./**/*.go", ExcludePatterns.NONE))
        .extracting(ContextSelection::placeAt).containsExactly("main.go", "pkg/util.go");
    ContextSelection dir = context.selectWithParents("src/./pkg", ExcludePatterns.NONE).getFirst();
    assertThat(dir.placeAt()).isEqualTo("pkg");
    assertThat(paths(dir)).containsExactly("", "notes.txt", "util.go");
  }

  @Test
  void aWildcardMatchItselfIsNeverExcludedButWithParentsItIs() {
    // BuildKit copies each match from its own root: --exclude sees only what is under it
    assertThat(context.select("*.txt", ExcludePatterns.of(List.of("b.txt"))))
        .extracting(ContextSelection::path).containsExactly("a.txt", "b.txt");
    // with --parents the copy starts at the pivot, so the match has a path there
    assertThat(context.selectWithParents("./*.txt", ExcludePatterns.of(List.of("b.txt"))))
        .extracting(ContextSelection::path).containsExactly("a.txt");
    assertThat(context.selectWithParents("src/./pkg", ExcludePatterns.of(List.of("pkg", "!pkg/util.go"))))
        .singleElement().satisfies(s -> assertThat(paths(s)).containsExactly("", "util.go"));
  }

  @Test
  void parentsWithAMissingPlainPathIsAnErrorAndWithAWildcardIsNot() {
    assertThatThrownBy(() -> context.selectWithParents("src/./nope.go", ExcludePatterns.NONE))
        .hasMessage("\"src/./nope.go\" not found in the build context");
    assertThat(context.selectWithParents("src/./*.rs", ExcludePatterns.NONE)).isEmpty();
  }

  @Test
  void aBindMountSeesWhatItsSourceNamesOrNothing() {
    assertThat(context.mount("").orElseThrow().path()).isEmpty();
    assertThat(paths(context.mount("linkdir").orElseThrow())).containsExactly("", "inner.txt");
    assertThat(context.mount("missing")).isEmpty();
  }

  @Test
  void aManifestWithAnUncleanPathIsRejected() {
    assertThatThrownBy(() -> new TestContext().file("a/../../etc/passwd", "x").selector())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid path");
  }
}
