package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The kernel mounts {@link Mounts} makes, by one of two means: system calls ({@link NativeMounts}) or
 * the {@code mount}/{@code umount} tools ({@link ToolMounts}) where JNA cannot load.
 */
interface MountCalls {
  /** An overlay with {@code options}, whose relative lower dirs resolve in {@code dir}. */
  void overlay(String options, Path target, Path dir) throws IOException;

  /** A read-only bind mount of {@code source} at {@code target}. */
  void bindReadOnly(Path source, Path target) throws IOException;

  void tmpfs(String options, Path target) throws IOException;

  /** Unmounts the mount at {@code target}, lazily when it is busy; nothing mounted there (or a symlink): no-op. */
  void unmount(Path target) throws IOException;

  /** For the log: how mounts are made. */
  String means();
}
