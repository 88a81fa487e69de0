package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The context stat cache: unchanged files are not rehashed, and no change goes unseen. */
class StatCacheTest {
  private static final long LATER = 10_000_000_000L; // a scan 10 s after the files were written

  @TempDir Path dir;

  private Path context() throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("a.txt"), "aaaa");
    Files.createDirectories(ctx.resolve("sub"));
    Files.writeString(ctx.resolve("sub/b.txt"), "bbbb");
    Files.writeString(ctx.resolve("Dockerfile"), "FROM scratch\n");
    return ctx;
  }

  private ScannedContext scan(Path ctx, long start, int expectHashed) throws Exception {
    StatCache cache = StatCache.load(dir.resolve("cache"), ctx, start);
    ScannedContext scanned = ContextScanner.scan(ctx, cache);
    assertThat(cache.hashed()).as("files hashed").isEqualTo(expectHashed);
    return scanned;
  }

  private static String digestOf(ScannedContext scanned, String path) {
    return scanned.manifest().getEntriesList().stream().filter(e -> e.getPath().equals(path)).findFirst().orElseThrow()
        .getDigest();
  }

  @Test
  void aRescanOfAnUnchangedContextHashesNothingAndGivesTheSameManifest() throws Exception {
    Path ctx = context();
    long later = StatCache.nowNanos() + LATER;
    ScannedContext first = scan(ctx, later, 3);
    ScannedContext second = scan(ctx, later, 0);
    assertThat(second.manifestDigest()).isEqualTo(first.manifestDigest());
    assertThat(second.manifest()).isEqualTo(ContextScanner.scan(ctx).manifest()); // as without a cache
  }

  @Test
  void aFileRewrittenWithTheSameSizeAndItsMtimePutBackIsHashedAgain() throws Exception {
    Path ctx = context();
    Path a = ctx.resolve("a.txt");
    FileTime mtime = FileTime.from(Instant.parse("2024-01-01T00:00:00Z"));
    Files.setLastModifiedTime(a, mtime);
    long later = StatCache.nowNanos() + LATER;
    scan(ctx, later, 3);

    Thread.sleep(50); // past the kernel's timestamp tick, as any later edit is
    Files.writeString(a, "AAAA"); // same size
    Files.setLastModifiedTime(a, mtime); // same mtime: only the ctime (which nobody can set) tells
    ScannedContext second = scan(ctx, later, 1);
    assertThat(digestOf(second, "a.txt")).isEqualTo(Digest.of("AAAA".getBytes(StandardCharsets.UTF_8)).toString());
  }

  @Test
  void aFileChangedWithinTheTimestampGranularityOfTheScanIsNotTrusted() throws Exception {
    Path ctx = context();
    long now = StatCache.nowNanos(); // the files were written just now: racily clean
    scan(ctx, now, 3);
    // a filesystem with coarse timestamps could show this rewrite with every stat value unchanged
    Path a = ctx.resolve("a.txt");
    FileTime mtime = Files.getLastModifiedTime(a);
    Files.writeString(a, "zzzz");
    Files.setLastModifiedTime(a, mtime);
    ScannedContext second = scan(ctx, now, 3); // nothing was trusted
    assertThat(digestOf(second, "a.txt")).isEqualTo(Digest.of("zzzz".getBytes(StandardCharsets.UTF_8)).toString());
  }

  @Test
  void aDamagedCacheFileOnlyCostsHashing() throws Exception {
    Path ctx = context();
    long later = StatCache.nowNanos() + LATER;
    scan(ctx, later, 3);
    try (var files = Files.list(dir.resolve("cache"))) {
      Path cacheFile = files.findFirst().orElseThrow();
      Files.writeString(cacheFile, "sha256:nonsense x y z\n\u0000garbage");
    }
    ScannedContext again = scan(ctx, later, 3);
    assertThat(again.manifest()).isEqualTo(ContextScanner.scan(ctx).manifest());
  }
}
