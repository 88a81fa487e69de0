package dev.stagefarm.cli.farm;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;

/**
 * The state directory of the background farm that {@code stagefarm build} starts and reuses: one
 * per farm home ({@code <home>/farm}, owner-only), so one content store has one farm.
 *
 * <ul>
 *   <li>{@code daemon.lock}: the daemon holds it for its lifetime; whoever can take it knows no
 *       daemon is alive (robust against a reused pid and a state file left by a killed daemon);
 *   <li>{@code start.lock}: clients hold it while they check and start the daemon, so two first
 *       builds at once start one farm; its mtime is when a client last came (see {@link #touchClient});
 *   <li>{@code farm.properties}: pid, port and settings, written by the daemon once it serves;
 *   <li>{@code token}: the bearer token every call must carry (0600);
 *   <li>{@code daemon.log}: the daemon's output.
 * </ul>
 */
public final class LocalFarmState {
  public static final String LOCK = "daemon.lock";
  public static final String START_LOCK = "start.lock";
  public static final String STATE = "farm.properties";
  public static final String TOKEN = "token";
  public static final String LOG = "daemon.log";

  /** What a daemon serving from this directory wrote about itself. */
  public record Running(long pid, int port, String settings, long startedMs, Duration idleTimeout) {}

  private final Path dir;

  public LocalFarmState(Path dir) {
    this.dir = dir;
  }

  /** The state directory of the farm whose data is in {@code home}. */
  public static LocalFarmState forHome(Path home) {
    return new LocalFarmState(home.resolve("farm"));
  }

  public Path dir() {
    return dir;
  }

  public Path token() {
    return dir.resolve(TOKEN);
  }

  public Path log() {
    return dir.resolve(LOG);
  }

  /** Creates the directory owner-only (it holds the token). */
  public void create() throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
  }

  /** The daemon's record, if one is there (it may be stale: check {@link #daemonAlive()}). */
  public Optional<Running> read() {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(dir.resolve(STATE), StandardCharsets.UTF_8)) {
      p.load(in);
      return Optional.of(new Running(Long.parseLong(p.getProperty("pid")), Integer.parseInt(p.getProperty("port")),
          p.getProperty("settings", ""), Long.parseLong(p.getProperty("started-ms", "0")),
          Duration.ofMillis(Long.parseLong(p.getProperty("idle-timeout-ms", "0")))));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // unreadable or half-written by a dead daemon: stale
    }
  }

  /** Written by the daemon once it serves; atomically, so a reader never sees half of it. */
  public void write(Running running) throws IOException {
    Properties p = new Properties();
    p.setProperty("pid", Long.toString(running.pid()));
    p.setProperty("port", Integer.toString(running.port()));
    p.setProperty("settings", running.settings());
    p.setProperty("started-ms", Long.toString(running.startedMs()));
    p.setProperty("idle-timeout-ms", Long.toString(running.idleTimeout().toMillis()));
    Path temp = dir.resolve(STATE + ".tmp");
    try (Writer out = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
      p.store(out, "stagefarm local farm");
    }
    move(temp, dir.resolve(STATE));
  }

  /**
   * A client is about to use the farm: the daemon does not count the time since as idle. Written
   * through the client's own locked channel: opening and closing the file again (as setting its
   * mtime does) would drop the process's POSIX lock on it.
   */
  public static void touchClient(FileChannel startLock) throws IOException {
    startLock.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), 0);
  }

  /** When a client last announced itself ({@link #touchClient}), epoch ms; 0 if never. */
  public long lastClient() {
    try {
      return Files.getLastModifiedTime(dir.resolve(START_LOCK)).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }

  public void clear() throws IOException {
    Files.deleteIfExists(dir.resolve(STATE));
    Files.deleteIfExists(token());
    // no thin client connects from now on (it falls back to the JVM client, which starts a farm)
    Files.deleteIfExists(dir.resolve(dev.stagefarm.farmrun.FarmRunProtocol.SOCKET));
  }

  /** Writes the token owner-only (created 0600, never readable by others even for a moment). */
  public void writeToken(String token) throws IOException {
    Path temp = dir.resolve(TOKEN + ".tmp");
    Files.deleteIfExists(temp);
    Files.writeString(Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
        token, StandardCharsets.UTF_8);
    move(temp, token());
  }

  /**
   * The {@link #LOCK} files held by a daemon in this process ({@link LocalFarmDaemon}, which takes the lock: the thin
   * client distribution reads this class and has no worker module). On Linux a process's lock goes when it closes
   * <em>any</em> descriptor of the file, so {@link #daemonAlive} must never open one of these.
   */
  private static final java.util.Set<Path> DAEMON_HERE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Called by the daemon once it holds {@code lockFile}; {@code held} false when it lets go. */
  static void daemonHoldsLock(Path lockFile, boolean held) {
    Path key = lockFile.toAbsolutePath().normalize();
    if (held) {
      DAEMON_HERE.add(key);
    } else {
      DAEMON_HERE.remove(key);
    }
  }

  /**
   * Whether a daemon holds {@link #LOCK}. Taking the lock for a moment is the test: the kernel
   * releases it when its holder dies, however it died. In the daemon's own process, the answer is
   * true without opening the file ({@link #daemonHoldsLock}).
   */
  public boolean daemonAlive() {
    Path lock = dir.resolve(LOCK);
    if (DAEMON_HERE.contains(lock.toAbsolutePath().normalize())) {
      return true; // never opened here: closing a descriptor of the file would free this process's lock
    }
    if (!Files.exists(lock)) {
      return false;
    }
    try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE)) {
      FileLock taken = channel.tryLock();
      if (taken == null) {
        return true;
      }
      taken.release();
      return false;
    } catch (OverlappingFileLockException e) {
      return true; // this JVM is the daemon
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check the local farm's lock " + lock, e);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
