package dev.stagefarm.cli.build;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.layer.LayerExtractor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The target's filesystem, as buildx's {@code local} and {@code tar} exporters write it: the
 * image's layers applied in order (whiteouts delete) from the OCI archive the farm exports.
 */
public final class FilesystemOutput {
  private static final Pattern BLOB = Pattern.compile("blobs/sha256/[0-9a-f]{64}");

  private FilesystemOutput() {}

  /**
   * Applies the image in {@code ociArchive} onto {@code dest} (created if missing): entries of the
   * layers replace what {@code dest} had at the same paths, other files stay, as with buildx.
   */
  public static void unpack(Path ociArchive, Path dest, Path scratch) throws IOException {
    Path layout = Files.createTempDirectory(scratch, "oci-");
    try {
      readArchive(ociArchive, layout);
      ImageIndex index = ImageJson.readIndex(Files.readAllBytes(layout.resolve("index.json")));
      if (index.manifests().size() != 1) {
        throw new IOException("the exported image has " + index.manifests().size() + " manifests, expected one");
      }
      ImageManifest manifest = ImageJson.readManifest(Files.readAllBytes(blob(layout, index.manifests().get(0).digest())));
      Files.createDirectories(dest);
      LayerExtractor extractor = new LayerExtractor(LayerExtractor.Mode.APPLY);
      for (Descriptor layer : manifest.layers()) {
        try (InputStream in = Files.newInputStream(blob(layout, layer.digest()))) {
          extractor.extract(in, dest);
        }
      }
    } finally {
      deleteTree(layout);
    }
  }

  /** Writes the tree under {@code root} as a tar (paths relative, sorted; modes, owners and mtimes kept). */
  public static void writeTar(Path root, OutputStream out) throws IOException {
    TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(root)) {
      paths = walk.filter(p -> !p.equals(root)).sorted().toList();
    }
    for (Path path : paths) {
      String name = root.relativize(path).toString();
      Map<String, Object> unix = Files.readAttributes(path, "unix:mode,uid,gid,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
      TarArchiveEntry entry;
      boolean regular = false;
      if (Files.isSymbolicLink(path)) {
        entry = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        entry.setLinkName(Files.readSymbolicLink(path).toString());
      } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
        entry = new TarArchiveEntry(name + "/");
      } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
        entry = new TarArchiveEntry(name);
        entry.setSize(Files.size(path));
        regular = true;
      } else {
        continue; // devices and fifos are not exported (BuildKit's tar exporter writes them; see docs/cli.md)
      }
      entry.setMode((Integer) unix.get("mode") & 07777 | (entry.getMode() & ~07777));
      entry.setIds((Integer) unix.get("uid"), (Integer) unix.get("gid"));
      entry.setModTime((FileTime) unix.get("lastModifiedTime"));
      tar.putArchiveEntry(entry);
      if (regular) {
        Files.copy(path, tar);
      }
      tar.closeArchiveEntry();
    }
    tar.finish();
    out.flush();
  }

  /** Copies index.json and the blobs of the farm's OCI archive; nothing else is read from it. */
  private static void readArchive(Path archive, Path layout) throws IOException {
    try (TarArchiveInputStream tar = new TarArchiveInputStream(Files.newInputStream(archive))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        String name = entry.getName();
        if (entry.isFile() && (name.equals("index.json") || BLOB.matcher(name).matches())) {
          Path target = layout.resolve(name);
          Files.createDirectories(target.getParent());
          Files.copy(tar, target);
        }
      }
    }
  }

  private static Path blob(Path layout, Digest digest) throws IOException {
    Path path = layout.resolve("blobs/sha256/" + digest.hex());
    if (!Files.isRegularFile(path)) {
      throw new IOException("the exported image lacks blob " + digest);
    }
    return path;
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
