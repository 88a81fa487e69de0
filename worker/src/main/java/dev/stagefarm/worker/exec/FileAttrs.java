package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;

/**
 * Numeric owner and full mode bits (setuid/sticky included), which the POSIX view cannot set.
 * Nothing here follows a symlink: a path names the entry itself (lchown; a symlink's mode is not
 * set, as Linux has none to set).
 */
final class FileAttrs {
  private FileAttrs() {}

  /** chmod of the entry itself; callers never pass a symlink (there is no lchmod on Linux). */
  static void setMode(Path p, int mode) throws IOException {
    Files.setAttribute(p, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
  }

  static int mode(Path p) throws IOException {
    return ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 07777;
  }

  /** chown without following a symlink (lchown). It clears setuid/setgid and file capabilities: chown first. */
  static void chown(Path p, long uid, long gid) throws IOException {
    Files.setAttribute(p, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(p, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
  }

  static long uid(Path p) throws IOException {
    return ((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
  }

  static long gid(Path p) throws IOException {
    return ((Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).longValue();
  }

  /** Sets access and modification time of the entry itself (a symlink's own times). */
  static void setTime(Path p, FileTime mtime) throws IOException {
    Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(mtime, mtime, null);
  }
}
