package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.proto.v1.ContextEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DockerIgnoreTest {
  @Test
  void lastMatchingRuleWinsAndDirectoriesCoverTheirContents() {
    DockerIgnore ignore = DockerIgnore.parse("# comment\n*.log\nbuild/\n!build/keep.txt\n**/*.tmp\n");
    assertThat(ignore.ignores("app.log")).isTrue();
    assertThat(ignore.ignores("src/app.log")).isFalse(); // * does not cross '/'
    assertThat(ignore.ignores("build/out.bin")).isTrue();
    assertThat(ignore.ignores("build/keep.txt")).isFalse();
    assertThat(ignore.ignores("a/b/c.tmp")).isTrue();
    assertThat(ignore.ignores("main.c")).isFalse();
  }

  /**
   * .dockerignore files and what Docker makes of one path; the multi-rule and folder cases are
   * moby/patternmatcher's (patternmatcher_test.go: multiPatternTests, TestPatternMatchesFolder*).
   */
  static Stream<Arguments> ignoreFiles() {
    return Stream.of(
        ignore("**/ matches at any depth", "**/node_modules", "a/b/node_modules/x.js", true),
        ignore("**/ matches at the root too", "**/node_modules", "node_modules/x.js", true),
        ignore("** between segments may match none", "docs/**/*.md", "docs/a.md", true),
        ignore("** between segments may match several", "docs/**/*.md", "docs/x/y/a.md", true),
        ignore("a trailing ** needs something under the directory", "docs/**", "docs", false),
        ignore("a trailing ** takes everything under it", "docs/**", "docs/x/y", true),
        ignore("** alone takes everything", "**", "any/thing", true),
        ignore("a re-included directory keeps its contents", "**\n!util/docker/web", "util/docker/web/foo", false),
        ignore("a later rule excludes again", "**\n!util/docker/web\nutil/docker/web/foo", "util/docker/web/foo", true),
        ignore("a wildcard re-includes", "**\n!dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
        ignore("a folder with an exception", "docs\n!docs/README.md", "docs/README.md", false),
        ignore("a folder with '/' and an exception", "docs/\n!docs/README.md", "docs/README.md", false),
        ignore("a folder's contents with an exception", "docs/*\n!docs/README.md", "docs/README.md", false),
        ignore("an exception before the rule does not count", "!app.go\n*.go", "app.go", true),
        ignore("a leading '/' means the context root", "/secret.txt", "secret.txt", true),
        ignore("patterns are cleaned", "./a/../b//c/", "b/c/d", true),
        ignore("'\\' escapes a wildcard", "a\\*b", "a*b", true),
        ignore("an escaped wildcard is literal", "a\\*b", "axb", false),
        ignore("'!' inside a class is literal, as in Go", "[!x].txt", "y.txt", false),
        ignore("'^' negates a class", "[^x].txt", "y.txt", true),
        ignore("only a line starting with '#' is a comment", " #keep", "#keep", true));
  }

  @ParameterizedTest
  @MethodSource("ignoreFiles")
  void followsDockersRules(String dockerignore, String path, boolean ignored) {
    assertThat(DockerIgnore.parse(dockerignore).ignores(path)).isEqualTo(ignored);
  }

  @Test
  void malformedPatternsAreUserErrorsNamingTheLine() {
    assertThatThrownBy(() -> DockerIgnore.parse("ok\n# fine\nsrc/[a-\n"))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith(".dockerignore line 3: syntax error in pattern");
    assertThatThrownBy(() -> DockerIgnore.parse("a\n!\n"))
        .isInstanceOf(UserError.class)
        .hasMessage(".dockerignore line 2: illegal exclusion pattern \"!\"");
  }

  @Test
  void scannerHonoursDockerignoreAndHashesContents(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(".dockerignore"), "secret.txt\nnode_modules\n");
    Files.writeString(dir.resolve("a.txt"), "hello");
    Files.writeString(dir.resolve("b.txt"), "hello");
    Files.writeString(dir.resolve("secret.txt"), "nope");
    Files.createDirectories(dir.resolve("node_modules/x"));
    Files.writeString(dir.resolve("node_modules/x/y.js"), "nope");
    Files.createDirectories(dir.resolve("src"));
    Files.writeString(dir.resolve("src/main.c"), "int main;");

    ScannedContext context = ContextScanner.scan(dir);
    assertThat(context.manifest().getEntriesList())
        .extracting(ContextEntry::getPath)
        .containsExactly(".dockerignore", "a.txt", "b.txt", "src", "src/main.c");
    ContextEntry a = context.manifest().getEntries(1);
    assertThat(a.getDigest()).isEqualTo("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assertThat(context.files()).hasSize(3); // a.txt and b.txt share content: uploaded once
    assertThat(ContextScanner.scan(dir).manifestDigest()).isEqualTo(context.manifestDigest());
  }

  private static Arguments ignore(String name, String dockerignore, String path, boolean ignored) {
    return argumentSet(name, dockerignore, path, ignored);
  }
}
