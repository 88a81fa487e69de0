package dev.stagefarm.multihost;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/** Reads what the farm wrote with {@code -o type=oci,dest=…}: the files of its layers. */
final class OciArchive {
  private static final long MAX_BLOB = 64L << 20; // the test images are a few MB

  private OciArchive() {}

  /**
   * The contents of every copy of {@code path} (e.g. {@code out/s1}) in any layer blob of the
   * archive, in archive order. Layers are gzip or uncompressed tars; other blobs are skipped.
   */
  static List<String> filesNamed(Path archive, String path) throws IOException {
    List<String> found = new ArrayList<>();
    try (TarArchiveInputStream outer = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(archive)))) {
      TarArchiveEntry entry;
      while ((entry = outer.getNextEntry()) != null) {
        if (!entry.isFile() || !entry.getName().replaceFirst("^\\./", "").startsWith("blobs/")) {
          continue;
        }
        if (entry.getSize() > MAX_BLOB) {
          throw new IOException(entry.getName() + " is over " + MAX_BLOB + " bytes: not a test image");
        }
        byte[] blob = outer.readAllBytes();
        InputStream layer = gzip(blob) ? new GZIPInputStream(new ByteArrayInputStream(blob))
            : tar(blob) ? new ByteArrayInputStream(blob) : null;
        if (layer != null) {
          collect(layer, path, found);
        }
      }
    }
    return found;
  }

  private static void collect(InputStream layer, String path, List<String> found) throws IOException {
    try (TarArchiveInputStream in = new TarArchiveInputStream(layer)) {
      TarArchiveEntry entry;
      while ((entry = in.getNextEntry()) != null) {
        if (entry.isFile() && entry.getName().replaceFirst("^\\.?/", "").equals(path)) {
          found.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
      }
    }
  }

  private static boolean gzip(byte[] blob) {
    return blob.length > 2 && (blob[0] & 0xff) == 0x1f && (blob[1] & 0xff) == 0x8b;
  }

  private static boolean tar(byte[] blob) {
    return blob.length >= 512 && new String(blob, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
  }
}
