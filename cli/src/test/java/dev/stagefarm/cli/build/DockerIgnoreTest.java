package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.ContextEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void outputSpecsFollowBuildxSyntax() {
    assertThat(OutputSpec.parse("type=oci,dest=/tmp/x.tar")).isEqualTo(new OutputSpec("oci", Path.of("/tmp/x.tar")));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> OutputSpec.parse("type=local,dest=x"))
        .hasMessageContaining("type must be oci or docker");
  }
}
