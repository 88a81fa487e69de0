package dev.stagefarm.program;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** A RUN mount; targets are absolute in the container, the working dir applied. */
public sealed interface Mount {
  String target();

  /** A read-only view (or a private writable copy) of context files or a path of another stage or image. */
  record Bind(String target, boolean readonly, BindSource source) implements Mount {}

  /** Where a bind mount's files come from. */
  sealed interface BindSource permits FromContext, FromInput {}

  /** Context files selected by the coordinator. */
  record FromContext(ContextSelection selection) implements BindSource {}

  /** A path in another stage or image. */
  record FromInput(InputPath path) implements BindSource {}

  /**
   * A persistent cache directory on the worker.
   *
   * @param id as written, or the target when none
   * @param seed {@code from=}/{@code source=}: a new cache starts as a copy of that directory
   */
  record Cache(String target, boolean readonly, String id, Sharing sharing, Optional<InputPath> seed,
      OptionalInt mode, OptionalInt uid, OptionalInt gid) implements Mount {}

  /** Cache mount sharing. */
  enum Sharing {
    SHARED,
    PRIVATE,
    LOCKED
  }

  /** @param sizeBytes 0: the runtime's default */
  record Tmpfs(String target, long sizeBytes) implements Mount {}

  /**
   * A build secret, as a file and/or an environment variable.
   *
   * @param target the file's path; {@code ""} for an env-only secret
   * @param env the variable to set too, {@code ""} for none
   */
  record Secret(String target, String id, String env, boolean required, OptionalInt mode, OptionalInt uid,
      OptionalInt gid) implements Mount {}

  /** An SSH agent socket. */
  record Ssh(String target, String id, boolean required) implements Mount {}

  /**
   * Files the program carries, in a read-only directory at {@code target} that is in no layer:
   * a RUN heredoc with a shebang, as BuildKit mounts it at {@code /dev/pipes/}.
   *
   * @param mode every file's permission bits (owned by 0:0)
   */
  record Inline(String target, List<CopySource.Inline> files, int mode) implements Mount {
    public Inline {
      files = List.copyOf(files);
    }
  }
}
