package dev.stagefarm.coordinator.compile;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/** A build context manifest written entry by entry, the way the CLI's scanner lists a directory. */
final class TestContext {
  private final Map<String, ContextEntry> entries = new TreeMap<>();

  /** Two top-level files, a small Go tree, and a directory reached through a symlink. */
  static TestContext project() {
    return new TestContext()
        .file("a.txt", "a")
        .file("b.txt", "b")
        .dir("src")
        .file("src/main.go", "main")
        .dir("src/pkg")
        .file("src/pkg/util.go", "util")
        .file("src/pkg/notes.txt", "notes")
        .dir("realdir")
        .file("realdir/inner.txt", "inner")
        .symlink("linkdir", "realdir");
  }

  TestContext file(String path, String content) {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    return add(ContextEntry.newBuilder().setPath(path).setType(ContextEntry.Type.FILE).setMode(0644)
        .setDigest(Digest.of(bytes).toString()).setSize(bytes.length).setMtimeMs(1_700_000_000_000L));
  }

  TestContext dir(String path) {
    return add(ContextEntry.newBuilder().setPath(path).setType(ContextEntry.Type.DIRECTORY).setMode(0755)
        .setMtimeMs(1_700_000_000_000L));
  }

  TestContext symlink(String path, String target) {
    return add(ContextEntry.newBuilder().setPath(path).setType(ContextEntry.Type.SYMLINK).setMode(0777)
        .setLinkTarget(target).setMtimeMs(1_700_000_000_000L));
  }

  private TestContext add(ContextEntry.Builder entry) {
    entries.put(entry.getPath(), entry.build());
    return this;
  }

  ContextManifest manifest() {
    return ContextManifest.newBuilder().setSchemaVersion(2).addAllEntries(entries.values()).build();
  }

  ContextSelector selector() {
    return ContextSelector.of(manifest());
  }

  static String digest(String content) {
    return Digest.of(content.getBytes(StandardCharsets.UTF_8)).toString();
  }
}
