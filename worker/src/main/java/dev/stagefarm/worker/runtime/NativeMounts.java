package dev.stagefarm.worker.runtime;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Mounts made with mount(2) and umount2(2) from the worker's own process: no {@code mount} or
 * {@code umount} process (a fork and exec each, 0.6–1.2 s under load) on a RUN's path.
 */
final class NativeMounts implements MountCalls {
  private final Libc.Calls libc;

  NativeMounts(Libc.Calls libc) {
    this.libc = libc;
  }

  /**
   * The lower dirs are relative to {@code dir} (the short names that keep the options within a page), so
   * the mount(2) runs on a platform thread of its own that has unshared its file-system attributes
   * ({@code CLONE_FS}) and changed to {@code dir}: the working directory of the JVM and of its other threads
   * never moves. The thread ends with the call, its working directory with it.
   */
  @Override
  public void overlay(String options, Path target, Path dir) throws IOException {
    byte[] cTarget = Libc.c(target.toAbsolutePath().toString());
    byte[] cDir = Libc.c(dir.toAbsolutePath().toString());
    byte[] cOptions = Libc.c(options);
    IOException[] failure = new IOException[1];
    Thread mounter = Thread.ofPlatform().name("overlay-mount").unstarted(() -> {
      try {
        libc.unshare(Libc.CLONE_FS);
      } catch (RuntimeException | Error e) {
        failure[0] = e instanceof LastErrorException errno
            ? failed("cannot give the mounting thread its own working directory (unshare CLONE_FS) for the overlay at "
                + target, errno)
            : new IOException("cannot prepare the mount of the overlay at " + target + ": " + e, e);
        return;
      }
      try {
        libc.chdir(cDir);
      } catch (LastErrorException e) {
        failure[0] = failed("cannot change to the overlay's lower-dir links " + dir, e);
        return;
      }
      try {
        libc.mount(Libc.c("overlay"), cTarget, Libc.c("overlay"), new NativeLong(0), cOptions);
      } catch (LastErrorException e) {
        failure[0] = failed("cannot mount an overlay at " + target, e);
      } catch (RuntimeException | Error e) {
        failure[0] = new IOException("cannot mount an overlay at " + target + ": " + e, e);
      }
    });
    mounter.start();
    joinUninterruptibly(mounter); // a mount(2) is short; leaving it half-waited would leak a mount we never record
    if (failure[0] != null) {
      throw failure[0];
    }
  }

  @Override
  public void bindReadOnly(Path source, Path target) throws IOException {
    byte[] cTarget = Libc.c(target.toAbsolutePath().toString());
    try {
      libc.mount(Libc.c(source.toAbsolutePath().toString()), cTarget, null, new NativeLong(Libc.MS_BIND), null);
    } catch (LastErrorException e) {
      throw failed("cannot bind " + source + " at " + target, e);
    }
    try {
      // a bind mount takes MS_RDONLY only on a remount of itself
      libc.mount(null, cTarget, null, new NativeLong(Libc.MS_REMOUNT | Libc.MS_BIND | Libc.MS_RDONLY), null);
    } catch (LastErrorException e) {
      IOException failure = failed("cannot make the bind mount at " + target + " read-only", e);
      try {
        libc.umount2(cTarget, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW); // never leave it writable
      } catch (LastErrorException ignored) {
        failure.addSuppressed(failed("cannot unmount it again", ignored));
      }
      throw failure;
    }
  }

  @Override
  public void tmpfs(String options, Path target) throws IOException {
    try {
      libc.mount(Libc.c("tmpfs"), Libc.c(target.toAbsolutePath().toString()), Libc.c("tmpfs"), new NativeLong(0),
          Libc.c(options));
    } catch (LastErrorException e) {
      throw failed("cannot mount a tmpfs (" + options + ") at " + target, e);
    }
  }

  /**
   * {@code UMOUNT_NOFOLLOW}: a symlink at {@code target} (a RUN may leave any in what it wrote) is not a mount
   * point, never the way to the mount it points at.
   */
  @Override
  public void unmount(Path target) throws IOException {
    byte[] cTarget = Libc.c(target.toAbsolutePath().toString());
    try {
      libc.umount2(cTarget, Libc.UMOUNT_NOFOLLOW);
      return;
    } catch (LastErrorException e) {
      if (e.getErrorCode() == Libc.EINVAL || e.getErrorCode() == Libc.ENOENT) {
        return; // not a mount point, or nothing there
      }
      if (e.getErrorCode() != Libc.EBUSY) {
        throw failed("cannot unmount " + target, e);
      }
    }
    try {
      libc.umount2(cTarget, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW); // busy: detached now, freed when let go
    } catch (LastErrorException e) {
      throw failed("cannot unmount " + target + " (busy), not even lazily", e);
    }
  }

  @Override
  public String means() {
    return "mount(2) and umount2(2) through JNA";
  }

  private IOException failed(String what, LastErrorException e) {
    return new IOException(what + ": " + Libc.describe(libc, e.getErrorCode()));
  }

  private static void joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
