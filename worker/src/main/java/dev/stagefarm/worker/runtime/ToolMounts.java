package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Mounts made by the util-linux tools, one process each: the way where JNA cannot load. */
final class ToolMounts implements MountCalls {
  @Override
  public void overlay(String options, Path target, Path dir) throws IOException {
    HostProcess.run(List.of("mount", "-t", "overlay", "overlay", "-o", options, target.toAbsolutePath().toString()), dir);
  }

  @Override
  public void bindReadOnly(Path source, Path target) throws IOException {
    HostProcess.run(List.of("mount", "--bind", "-o", "ro", source.toAbsolutePath().toString(),
        target.toAbsolutePath().toString()), null);
    HostProcess.run(List.of("mount", "-o", "remount,bind,ro", target.toAbsolutePath().toString()), null);
  }

  @Override
  public void tmpfs(String options, Path target) throws IOException {
    HostProcess.run(List.of("mount", "-t", "tmpfs", "-o", options, "tmpfs", target.toAbsolutePath().toString()), null);
  }

  @Override
  public void unmount(Path target) throws IOException {
    if (!Mounts.mountPoints().contains(target.toAbsolutePath().normalize().toString())) {
      return;
    }
    try {
      HostProcess.run(List.of("umount", target.toAbsolutePath().toString()), null);
    } catch (IOException busy) {
      HostProcess.run(List.of("umount", "-l", target.toAbsolutePath().toString()), null);
    }
  }

  @Override
  public String means() {
    return "the mount and umount tools";
  }
}
