package dev.stagefarm.worker.exec;

import dev.stagefarm.program.Action;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.ResolvedUser;
import dev.stagefarm.worker.runtime.UserResolver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * WORKDIR's directory, as BuildKit makes it ({@code convert.go:dispatchWorkdir}: {@code Mkdir(path,
 * 0755, WithParents, WithUser(user))}): the path resolved inside the rootfs, the missing
 * directories made 0755 and owned by the config's user as {@code ops/user_linux.go:readUser}
 * resolves it: {@code 1000} is 1000:1000, a name its passwd uid and gid, an unknown name root, an
 * unknown group the user's own gid.
 */
final class MkdirAction {
  void execute(Action.Mkdir mkdir, RootfsFiles files) throws IOException, UserError {
    Path dir = files.resolve(mkdir.path());
    if (files.isDirectory(dir)) {
      return;
    }
    files.mkdirs(dir, 0755, owner(files.imageFiles(), mkdir.owner()));
  }

  static ResolvedUser owner(Path rootfs, String user) throws IOException {
    return owner(UserResolver.ImageFiles.in(rootfs), user);
  }

  static ResolvedUser owner(UserResolver.ImageFiles rootfs, String user) throws IOException {
    if (user.isEmpty()) {
      return ResolvedUser.ROOT;
    }
    try {
      return UserResolver.resolveOwner(rootfs, user);
    } catch (UserResolver.UnknownUserException unknownUserOrGroup) {
      int colon = user.indexOf(':');
      if (colon < 0) {
        return ResolvedUser.ROOT;
      }
      try { // readUser keeps what it resolved before the unknown group
        return UserResolver.resolveOwner(rootfs, user.substring(0, colon));
      } catch (UserResolver.UnknownUserException unknownUser) {
        return ResolvedUser.ROOT;
      }
    }
  }
}
