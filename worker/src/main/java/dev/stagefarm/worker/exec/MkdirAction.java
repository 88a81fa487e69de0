package dev.stagefarm.worker.exec;

import dev.stagefarm.program.Action;
import dev.stagefarm.worker.runtime.ResolvedUser;
import dev.stagefarm.worker.runtime.RootfsPaths;
import dev.stagefarm.worker.runtime.UserResolver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** WORKDIR's directory, as BuildKit makes it: the missing ones, 0755, owned by the config's user (root when unknown). */
final class MkdirAction {
  void execute(Action.Mkdir mkdir, Path rootfs) throws IOException {
    Path dir = RootfsPaths.resolveLenient(rootfs, mkdir.path());
    if (Files.isDirectory(dir)) {
      return;
    }
    ResolvedUser owner;
    try {
      owner = UserResolver.resolve(rootfs, mkdir.owner());
    } catch (UserResolver.UnknownUserException e) {
      owner = ResolvedUser.ROOT;
    }
    List<Path> missing = new ArrayList<>();
    for (Path p = dir; p != null && p.startsWith(rootfs) && !Files.exists(p); p = p.getParent()) {
      missing.addFirst(p);
    }
    for (Path p : missing) {
      Files.createDirectory(p);
      FileAttrs.setMode(p, 0755);
      FileAttrs.chown(p, owner.uid(), owner.gid());
    }
  }
}
