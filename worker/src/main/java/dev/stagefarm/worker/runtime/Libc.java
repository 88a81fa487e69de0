package dev.stagefarm.worker.runtime;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.nio.charset.Charset;
import java.util.Map;

/**
 * The few libc calls the worker makes without a process: mount(2), umount2(2), xattr reads, and a
 * thread's own working directory for an overlay's relative lower dirs. Through JNA because the FFM
 * API is a preview in Java 21, the release we target.
 *
 * <p>Paths and option strings go in as bytes in the JVM's file-name encoding ({@code
 * sun.jnu.encoding}), the one {@link java.nio.file.Path} itself uses, NUL-terminated.
 */
final class Libc {
  static final int CLONE_FS = 0x200;
  static final long MS_RDONLY = 1;
  static final long MS_REMOUNT = 32;
  static final long MS_BIND = 4096;
  static final int MNT_DETACH = 2;
  static final int UMOUNT_NOFOLLOW = 8;

  static final int EPERM = 1;
  static final int ENOENT = 2;
  static final int EBUSY = 16;
  static final int EINVAL = 22;
  static final int ENODATA = 61;
  static final int ERANGE = 34;
  static final int ENOTSUP = 95;

  /** The calls, as JNA binds them; a failing call throws LastErrorException with its errno. */
  interface Calls extends Library {
    int mount(byte[] source, byte[] target, byte[] fstype, NativeLong flags, byte[] data) throws LastErrorException;

    int umount2(byte[] target, int flags) throws LastErrorException;

    int unshare(int flags) throws LastErrorException;

    int chdir(byte[] path) throws LastErrorException;

    NativeLong llistxattr(byte[] path, Pointer list, NativeLong size) throws LastErrorException;

    NativeLong lgetxattr(byte[] path, byte[] name, Pointer value, NativeLong size) throws LastErrorException;

    String strerror(int errnum);
  }

  private static final Charset FILE_NAMES = fileNameCharset();
  private static final Map<Integer, String> NAMES = Map.ofEntries(
      Map.entry(EPERM, "EPERM"), Map.entry(ENOENT, "ENOENT"), Map.entry(5, "EIO"), Map.entry(12, "ENOMEM"),
      Map.entry(13, "EACCES"), Map.entry(EBUSY, "EBUSY"), Map.entry(19, "ENODEV"), Map.entry(20, "ENOTDIR"),
      Map.entry(EINVAL, "EINVAL"), Map.entry(ERANGE, "ERANGE"), Map.entry(24, "EMFILE"), Map.entry(28, "ENOSPC"),
      Map.entry(30, "EROFS"), Map.entry(36, "ENAMETOOLONG"), Map.entry(40, "ELOOP"), Map.entry(ENODATA, "ENODATA"),
      Map.entry(ENOTSUP, "ENOTSUP"));

  private Libc() {}

  /** libc bound, or the reason it cannot be (JNA's native part did not load: no jar, a noexec temp dir, …). */
  record Loaded(Calls calls, String failure) {}

  /** Bound once per JVM. */
  static final Loaded LOADED = load();

  private static Loaded load() {
    try {
      return new Loaded(Native.load("c", Calls.class), null);
    } catch (LinkageError | RuntimeException e) {
      return new Loaded(null, "JNA could not bind libc: " + e);
    }
  }

  /** {@code s} as a NUL-terminated C string in the file-name encoding; null stays null (a NULL pointer). */
  static byte[] c(String s) {
    if (s == null) {
      return null;
    }
    byte[] bytes = s.getBytes(FILE_NAMES);
    byte[] terminated = new byte[bytes.length + 1];
    System.arraycopy(bytes, 0, terminated, 0, bytes.length);
    return terminated;
  }

  /** "Device or resource busy (EBUSY)": the errno's text and name, for an error message. */
  static String describe(Calls calls, int errno) {
    String text;
    try {
      text = calls.strerror(errno);
    } catch (RuntimeException | LinkageError e) {
      text = null;
    }
    String name = NAMES.getOrDefault(errno, "errno " + errno);
    return text == null || text.isBlank() ? name : text + " (" + name + ")";
  }

  private static Charset fileNameCharset() {
    try {
      return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
    } catch (RuntimeException e) {
      return Charset.defaultCharset();
    }
  }
}
