package dev.stagefarm.worker.exec;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * ADD's archives: a local file is unpacked when it is a tar archive, plain or compressed (gzip,
 * bzip2, xz, zstd), as BuildKit decides it ({@code unpack.go:isArchivePath}: the stream
 * {@code compression.DecompressStream} detects, then a first tar header that reads). A compressed
 * file that is not a tar ({@code notes.txt.gz}) is copied as it is.
 */
final class Archives {
  private static final int BLOCK = 512;

  private Archives() {}

  /** Whether {@code file} is a tar archive, plain or compressed. */
  static boolean isTar(Path file) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try (InputStream in = open(file)) {
      return isTarHeader(in.readNBytes(BLOCK));
    } catch (IOException notCompressedAsItsMagicSays) {
      return false;
    }
  }

  /** The tar stream of {@code file}, decompressed by its magic bytes. */
  static InputStream open(Path file) throws IOException {
    BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), 64 * 1024);
    try {
      in.mark(6);
      byte[] magic = in.readNBytes(6);
      in.reset();
      if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
        return GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
      }
      if (magic.length >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
        return new BZip2CompressorInputStream(in, true);
      }
      if (magic.length >= 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X'
          && magic[4] == 'Z' && magic[5] == 0) {
        return new XZCompressorInputStream(in, true);
      }
      if (magic.length >= 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
          && (magic[3] & 0xff) == 0xfd) {
        return new ZstdInputStream(in);
      }
      return in;
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
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
}
