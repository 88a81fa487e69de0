package dev.stagefarm.cli.build;

import dev.stagefarm.oci.Digest;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Remembers the digest of each context file with what {@code lstat} says about it (device, inode,
 * size, mtime and ctime in nanoseconds), so a rebuild rehashes only the files that changed, as
 * git's index does. ctime is in the key because nobody can set it: a file rewritten with the same
 * size and its mtime put back still misses.
 *
 * <p>Racy entries are not kept: a file whose mtime or ctime is within {@link #RACY_NANOS} of the
 * scan could still change after it was hashed without any of those values moving (on filesystems
 * with coarse timestamps), so it is hashed again next time instead of trusted.
 */
public final class StatCache {
  /** Two seconds: the coarsest timestamp granularity in common use (FAT); ext4, xfs and tmpfs have ns. */
  static final long RACY_NANOS = 2_000_000_000L;
  private static final int MAX_ENTRIES = 1_000_000;

  /** What identifies one version of a file. */
  public record Stat(long device, long inode, long size, long mtimeNanos, long ctimeNanos) {}

  private record Entry(Stat stat, String digest) {}

  private final Path file;
  private final Map<String, Entry> previous;
  private final Map<String, Entry> current = new HashMap<>();
  private final long scanStartNanos;
  private int hashed;

  private StatCache(Path file, Map<String, Entry> previous, long scanStartNanos) {
    this.file = file;
    this.previous = previous;
    this.scanStartNanos = scanStartNanos;
  }

  /** No cache: every file is hashed. */
  public static StatCache none() {
    return new StatCache(null, Map.of(), 0);
  }

  /**
   * The cache of one context directory, kept under {@code cacheDir} (a name derived from the
   * directory's absolute path). A missing or unreadable cache is an empty one.
   */
  public static StatCache load(Path cacheDir, Path contextDir) {
    return load(cacheDir, contextDir, nowNanos());
  }

  /** @param scanStartNanos when the scan starts (epoch ns): tests put it later, as if time had passed */
  static StatCache load(Path cacheDir, Path contextDir, long scanStartNanos) {
    String name = Digest.of(contextDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8))
        .toString().substring("sha256:".length(), "sha256:".length() + 32);
    Path file = cacheDir.resolve(name);
    Map<String, Entry> entries = new HashMap<>();
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String[] f = line.split(" ", 7);
        if (f.length == 7 && entries.size() < MAX_ENTRIES) {
          try {
            entries.put(f[6], new Entry(new Stat(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                Long.parseLong(f[4]), Long.parseLong(f[5])), f[0]));
          } catch (NumberFormatException ignored) {
            // a damaged line: that file is hashed again
          }
        }
      }
    } catch (NoSuchFileException e) {
      // first build of this context
    } catch (IOException | RuntimeException e) {
      entries.clear(); // unreadable: start over
    }
    return new StatCache(file, entries, scanStartNanos);
  }

  /** The file's digest: remembered when its stat is unchanged, else hashed. */
  public String digest(String path, Path file, Stat stat) throws IOException {
    Entry known = previous.get(path);
    String digest;
    if (known != null && known.stat().equals(stat)) {
      digest = known.digest();
    } else {
      digest = ContextScanner.hash(file).toString();
      hashed++;
    }
    if (this.file != null && !racy(stat) && path.indexOf('\n') < 0) {
      current.put(path, new Entry(stat, digest));
    }
    return digest;
  }

  /** How many files this scan hashed (the others came from the cache). */
  public int hashed() {
    return hashed;
  }

  private boolean racy(Stat stat) {
    return Math.max(stat.mtimeNanos(), stat.ctimeNanos()) >= scanStartNanos - RACY_NANOS;
  }

  /** Writes what this scan learned when it differs from what was loaded; a failure only costs hashing. */
  public void save() {
    if (file == null || current.equals(previous)) {
      return;
    }
    try {
      Files.createDirectories(file.getParent());
      Path temp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
      try (BufferedWriter out = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
        for (Map.Entry<String, Entry> e : current.entrySet()) {
          Stat s = e.getValue().stat();
          out.write(String.join(" ", List.of(e.getValue().digest(), Long.toString(s.device()), Long.toString(s.inode()),
              Long.toString(s.size()), Long.toString(s.mtimeNanos()), Long.toString(s.ctimeNanos()), e.getKey())));
          out.write('\n');
        }
      }
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      // the next build hashes again
    }
  }

  /** For tests: the file the cache lives in. */
  Optional<Path> file() {
    return Optional.ofNullable(file);
  }

  static long nowNanos() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }
}
