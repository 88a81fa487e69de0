package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.HostProcess;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * ADD's archives: a local file is unpacked when it is a tar archive, plain or compressed (gzip,
 * bzip2, xz), as BuildKit decides it (it reads the first tar header). A compressed file that is not
 * a tar ({@code notes.txt.gz}) is copied as it is.
 */
final class Archives {
  private static final int BLOCK = 512;

  private Archives() {}

  /** Whether {@code file} is a tar archive, plain or compressed. */
  static boolean isTar(Path file) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    byte[] magic;
    try (InputStream in = Files.newInputStream(file)) {
      magic = in.readNBytes(6);
    }
    byte[] head;
    if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
      head = gunzippedHead(file);
    } else if (magic.length >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
      head = decompressedHead("bzip2", file);
    } else if (magic.length >= 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z'
        && magic[3] == 'X' && magic[4] == 'Z' && magic[5] == 0) {
      head = decompressedHead("xz", file);
    } else {
      try (InputStream in = Files.newInputStream(file)) {
        head = in.readNBytes(BLOCK);
      }
    }
    return isTarHeader(head);
  }

  /**
   * Unpacks {@code archive} into {@code staging} (a fresh directory) keeping the archive's owners,
   * modes and mtimes.
   *
   * @throws UserError when tar refuses the archive (corrupt or hostile)
   */
  static void extract(Path archive, Path staging) throws IOException, UserError {
    try {
      HostProcess.run(List.of("tar", "-x", "--same-owner", "--numeric-owner", "-f", archive.toString(),
          "-C", staging.toString()), null);
    } catch (HostProcess.ExitException e) {
      throw new UserError("unpacking " + archive.getFileName() + " failed: " + e.getMessage());
    }
  }

  /** A tar header block: its checksum (the sum of its bytes, the checksum field read as spaces) matches. */
  static boolean isTarHeader(byte[] block) {
    if (block.length < BLOCK) {
      return false;
    }
    String field = new String(block, 148, 8, StandardCharsets.US_ASCII).replace('\0', ' ').strip();
    if (field.isEmpty() || !field.chars().allMatch(c -> c >= '0' && c <= '7')) {
      return false;
    }
    long expected = Long.parseLong(field, 8);
    long sum = 0;
    for (int i = 0; i < BLOCK; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (block[i] & 0xff);
    }
    return sum == expected;
  }

  private static byte[] gunzippedHead(Path file) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
      return in.readNBytes(BLOCK);
    } catch (java.util.zip.ZipException | java.io.EOFException notGzip) {
      return new byte[0];
    }
  }

  /** The first block of a file decompressed by {@code tool} (bzip2, xz); empty when it is not valid. */
  private static byte[] decompressedHead(String tool, Path file) throws IOException {
    Process process = new ProcessBuilder(tool, "-dc", file.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    try (InputStream out = process.getInputStream()) {
      return out.readNBytes(BLOCK);
    } finally {
      process.destroy();
    }
  }
}
