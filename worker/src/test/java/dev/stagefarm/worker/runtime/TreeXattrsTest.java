package dev.stagefarm.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.layer.Xattrs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tree's xattrs read with system calls are what {@code getfattr -R} reads, in every namespace. */
class TreeXattrsTest {
  @TempDir Path dir;

  @Test
  void readsWhatGetfattrReadsAndNeverFollowsASymlink() throws Exception {
    Path root = Files.createDirectories(dir.resolve("upper"));
    Path opaque = Files.createDirectories(root.resolve("etc/opaque dir"));
    Path file = Files.writeString(root.resolve("etc/file with space"), "x");
    Path plain = Files.writeString(root.resolve("plain"), "no xattrs");
    Path outside = Files.writeString(dir.resolve("outside"), "not in the tree");
    Path link = Files.createSymbolicLink(root.resolve("link"), outside);
    Xattrs.apply(List.of(
        new Xattrs.Assignment(root, "user.root", "r".getBytes()),
        new Xattrs.Assignment(opaque, Xattrs.OVERLAY_OPAQUE, "y".getBytes()),
        new Xattrs.Assignment(file, "user.empty", new byte[0]),
        new Xattrs.Assignment(file, "trusted.binary", new byte[] {0, (byte) 0xff, 10}),
        // a valid v2 file capability (cap_net_raw permitted), as an image's ping carries
        new Xattrs.Assignment(file, "security.capability",
            HexFormat.of().parseHex("0000000200200000000000000000000000000000")),
        new Xattrs.Assignment(outside, "user.outside", "o".getBytes())));

    Map<Path, SortedMap<String, byte[]>> native_ = TreeXattrs.read(root);

    assertThat(hex(native_)).isEqualTo(hex(Xattrs.readTree(root)));
    assertThat(hex(native_)).containsOnlyKeys(root.toString(), opaque.toString(), file.toString());
    assertThat(hex(native_).get(file.toString())).containsEntry("trusted.binary", "00ff0a")
        .containsEntry("user.empty", "").containsKey("security.capability");
    assertThat(native_).doesNotContainKeys(plain, link, outside);
  }

  @Test
  void aTreeWithoutXattrsReadsEmpty() throws Exception {
    Path root = Files.createDirectories(dir.resolve("t/a/b"));
    Files.writeString(root.resolve("f"), "x");
    assertThat(TreeXattrs.read(dir.resolve("t"))).isEmpty();
  }

  private static Map<String, Map<String, String>> hex(Map<Path, SortedMap<String, byte[]>> tree) {
    Map<String, Map<String, String>> out = new TreeMap<>();
    tree.forEach((path, attrs) -> {
      Map<String, String> values = new TreeMap<>();
      attrs.forEach((name, value) -> values.put(name, HexFormat.of().formatHex(value)));
      out.put(path.toString(), values);
    });
    return out;
  }
}
