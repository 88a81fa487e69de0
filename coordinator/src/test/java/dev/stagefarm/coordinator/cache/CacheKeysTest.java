package dev.stagefarm.coordinator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.cache.CacheKeys.KeyedInstruction;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CacheKeysTest {
  static ContextEntry file(String path, String digest) {
    return ContextEntry.newBuilder()
        .setPath(path)
        .setType(ContextEntry.Type.FILE)
        .setMode(0644)
        .setDigest("sha256:" + digest.repeat(64).substring(0, 64))
        .setMtimeMs(1)
        .build();
  }

  static ContextEntry dir(String path) {
    return ContextEntry.newBuilder().setPath(path).setType(ContextEntry.Type.DIRECTORY).setMode(0755).build();
  }

  final ContextManifest manifest =
      ContextManifest.newBuilder()
          .addEntries(file("Dockerfile", "d"))
          .addEntries(file("main.c", "a"))
          .addEntries(dir("src"))
          .addEntries(file("src/one.go", "b"))
          .addEntries(file("src/two.go", "c"))
          .addEntries(file("srcx", "e"))
          .build();
  final ContextSelector selector = new ContextSelector(manifest);

  @Test
  void rootsDifferByBaseAndPlatform() {
    String scratch = CacheKeys.root(Optional.empty(), "linux/amd64");
    assertThat(scratch).hasSize(64).isEqualTo(CacheKeys.root(Optional.empty(), "linux/amd64"));
    assertThat(CacheKeys.root(Optional.of("sha256:" + "1".repeat(64)), "linux/amd64")).isNotEqualTo(scratch);
    assertThat(CacheKeys.root(Optional.empty(), "linux/arm64")).isNotEqualTo(scratch);
  }

  @Test
  void keyChainsDependOnParentInstructionAndArgs() {
    String root = CacheKeys.root(Optional.empty(), "linux/amd64");
    List<String> chain =
        CacheKeys.chain(root, List.of(KeyedInstruction.of("RUN a"), KeyedInstruction.of("RUN b")));
    assertThat(chain).hasSize(2).doesNotHaveDuplicates();
    assertThat(CacheKeys.chain(root, List.of(KeyedInstruction.of("RUN a"), KeyedInstruction.of("RUN b"))))
        .isEqualTo(chain);
    // a change in the first instruction changes every key after it
    List<String> changed =
        CacheKeys.chain(root, List.of(KeyedInstruction.of("RUN a2"), KeyedInstruction.of("RUN b")));
    assertThat(changed.get(1)).isNotEqualTo(chain.get(1));

    KeyedInstruction withArg =
        new KeyedInstruction("RUN echo $V", Map.of("V", "1"), List.of(), Optional.empty());
    KeyedInstruction otherArg =
        new KeyedInstruction("RUN echo $V", Map.of("V", "2"), List.of(), Optional.empty());
    assertThat(CacheKeys.next(root, withArg)).isNotEqualTo(CacheKeys.next(root, otherArg));
  }

  @Test
  void copyKeyDependsOnSelectedFileContentsButNotMtimes() {
    String root = CacheKeys.root(Optional.empty(), "linux/amd64");
    List<ContextEntry> files = selector.select(List.of("src/"));
    String key = CacheKeys.next(root, new KeyedInstruction("COPY src/ /src", Map.of(), files, Optional.empty()));

    ContextEntry touched = files.get(1).toBuilder().setMtimeMs(999).build();
    assertThat(CacheKeys.next(root, new KeyedInstruction("COPY src/ /src", Map.of(), List.of(files.get(0), touched, files.get(2)), Optional.empty())))
        .isEqualTo(key);
    ContextEntry edited = files.get(1).toBuilder().setDigest("sha256:" + "f".repeat(64)).build();
    assertThat(CacheKeys.next(root, new KeyedInstruction("COPY src/ /src", Map.of(), List.of(files.get(0), edited, files.get(2)), Optional.empty())))
        .isNotEqualTo(key);
    ContextEntry chmodded = files.get(1).toBuilder().setMode(0755).build();
    assertThat(CacheKeys.next(root, new KeyedInstruction("COPY src/ /src", Map.of(), List.of(files.get(0), chmodded, files.get(2)), Optional.empty())))
        .isNotEqualTo(key);
  }

  @Test
  void runKeyDependsOnWhatItsMountsReadAndOnlyInBuildMakesItUnique() {
    String root = CacheKeys.root(Optional.empty(), "linux/amd64");
    List<ContextEntry> files = selector.select(List.of("src/"));
    String key = CacheKeys.next(root, run(new CacheKeys.MountSource("/src", "context", files), Optional.empty()));

    ContextEntry edited = files.get(1).toBuilder().setDigest("sha256:" + "f".repeat(64)).build();
    assertThat(CacheKeys.next(root, run(new CacheKeys.MountSource("/src", "context", List.of(files.get(0), edited, files.get(2))), Optional.empty())))
        .isNotEqualTo(key);
    ContextEntry touched = files.get(1).toBuilder().setMtimeMs(999).build();
    assertThat(CacheKeys.next(root, run(new CacheKeys.MountSource("/src", "context", List.of(files.get(0), touched, files.get(2))), Optional.empty())))
        .isEqualTo(key);
    assertThat(CacheKeys.next(root, run(new CacheKeys.MountSource("/src", "k".repeat(64), List.of()), Optional.empty())))
        .isNotEqualTo(CacheKeys.next(root, run(new CacheKeys.MountSource("/src", "j".repeat(64), List.of()), Optional.empty())));
    assertThat(CacheKeys.next(root, run(new CacheKeys.MountSource("/src", "context", files), Optional.of("b2"))))
        .isNotEqualTo(key)
        .isNotEqualTo(CacheKeys.next(root, run(new CacheKeys.MountSource("/src", "context", files), Optional.of("b3"))));
  }

  static KeyedInstruction run(CacheKeys.MountSource mount, Optional<String> onlyInBuild) {
    return new KeyedInstruction("RUN --mount=type=bind,target=/src make", Map.of(), List.of(), Optional.empty(), List.of(mount), onlyInBuild);
  }

  @Test
  void selectorResolvesPathsDirectoriesDotAndGlobs() {
    assertThat(paths(selector.select(List.of("main.c")))).containsExactly("main.c");
    assertThat(paths(selector.select(List.of("./src/")))).containsExactly("src", "src/one.go", "src/two.go");
    assertThat(paths(selector.select(List.of(".")))).hasSize(6);
    assertThat(paths(selector.select(List.of("src/*.go")))).containsExactly("src/one.go", "src/two.go");
    assertThat(paths(selector.select(List.of("*.c", "src/t?o.go")))).containsExactly("main.c", "src/two.go");
    assertThat(paths(selector.select(List.of("src*")))).containsExactly("src", "src/one.go", "src/two.go", "srcx");
    assertThat(selector.select(List.of("missing"))).isEmpty();
  }

  static List<String> paths(List<ContextEntry> entries) {
    return entries.stream().map(ContextEntry::getPath).toList();
  }
}
