package dev.stagefarm.worker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An exclusive lock on a file, held by this process until {@link #close()}d or until the process dies (the kernel
 * frees it however its holder died: no stale lock to clear by hand). Its holder writes one line about itself into
 * the file ({@link #holder}), which whoever is refused reads to name it.
 *
 * <p>Holders in this JVM are tracked here too, and a second take of a file held in this JVM is refused without
 * opening it: the kernel's lock (fcntl) belongs to the process, and closing <em>any</em> descriptor of the file —
 * a refused second channel's — would silently free the first holder's lock for every other process.
 */
public final class HeldLock implements AutoCloseable {
  /** At most this much of a holder's line is read (the file is only ours by convention). */
  private static final int MAX_HOLDER = 256;
  /** Files locked in this JVM (by file key: a second path to the same file is the same lock) and their holders. */
  private static final Map<Object, String> HELD_HERE = new ConcurrentHashMap<>();
  /**
   * The locks held, reachable until closed whatever their holder keeps: an unreachable channel's cleaner closes its
   * descriptor, which would free the lock (a daemon that only checked its lock was taken would lose it at a GC).
   */
  private static final java.util.Set<HeldLock> OPEN = ConcurrentHashMap.newKeySet();

  private final Object key;
  private final FileChannel channel;

  private HeldLock(Object key, FileChannel channel) {
    this.key = key;
    this.channel = channel;
  }

  /** What is refused: the file and who holds it. */
  public record Refusal(Path file, String holder) {}

  /**
   * Takes the lock on {@code file} (created if missing) for {@code holder} (one line naming it, e.g.
   * "worker worker-1 (pid 412)"), or tells who holds it.
   */
  public static Result tryHold(Path file, String holder) throws IOException {
    try {
      Files.createFile(file);
    } catch (FileAlreadyExistsException e) {
      // taken before, by us or another
    } catch (java.nio.file.FileSystemException e) {
      // its message is the path alone: say what failed and why (a read-only or missing directory, no permission)
      String why = e instanceof java.nio.file.NoSuchFileException ? "its directory does not exist"
          : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
          : e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
      throw new IOException("cannot create the lock file " + file + ": " + why, e);
    }
    Object key = keyOf(file);
    String here = HELD_HERE.putIfAbsent(key, oneLine(holder));
    if (here != null) {
      return new Result(null, new Refusal(file, here));
    }
    FileChannel channel = null;
    try {
      // never through a symlink planted at the lock's path: its holder line would overwrite the link's target
      channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
      if (channel.tryLock() == null) {
        String other = readHolder(channel); // through this channel: no other descriptor opened and closed
        channel.close(); // frees no lock: this JVM holds none on the file
        HELD_HERE.remove(key);
        return new Result(null, new Refusal(file, other));
      }
      byte[] line = (oneLine(holder) + "\n").getBytes(StandardCharsets.UTF_8);
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(line), 0); // not forced: after a crash the lock is free anyway
      HeldLock held = new HeldLock(key, channel);
      OPEN.add(held);
      return new Result(held, null);
    } catch (IOException | RuntimeException e) {
      if (channel != null) {
        channel.close();
      }
      HELD_HERE.remove(key);
      throw e;
    }
  }

  /** Either the lock taken or who holds it. */
  public record Result(HeldLock held, Refusal refusal) {
    public Optional<HeldLock> lock() {
      return Optional.ofNullable(held);
    }
  }

  private static Object keyOf(Path file) throws IOException {
    Object key = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    return key != null ? key : file.toRealPath();
  }

  /** The holder's line, printable characters only; "another process" when it wrote none (yet). */
  private static String readHolder(FileChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(MAX_HOLDER);
    channel.read(buffer, 0);
    String line = oneLine(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
    return line.isEmpty() ? "another process" : line;
  }

  /** The first line of {@code text} with control characters dropped: it goes into an error message. */
  private static String oneLine(String text) {
    int end = text.indexOf('\n');
    String first = end < 0 ? text : text.substring(0, end);
    return first.codePoints().filter(c -> !Character.isISOControl(c))
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString().strip();
  }

  /** This process's description for a holder line: "{@code what} (pid N)". */
  public static String thisProcess(String what) {
    return what + " (pid " + ProcessHandle.current().pid() + ")";
  }

  /** Frees the lock (idempotent). */
  @Override
  public void close() throws IOException {
    if (channel.isOpen()) {
      try {
        channel.close(); // releases the lock
      } finally {
        HELD_HERE.remove(key);
        OPEN.remove(this);
      }
    }
  }
}
