package dev.stagefarm.program;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** What an op does to the stage's filesystem. */
public sealed interface Action {

  /**
   * RUN: a process in a container over the stage's rootfs.
   *
   * @param argv shell form already wrapped in the stage's SHELL
   * @param env {@code NAME=value}: the image env plus the ARGs in scope, in order ({@code HOME}
   *     is added by the worker from the resolved user when missing)
   * @param cwd absolute; created when missing
   * @param user as in the image config ({@code ""} = root); resolved through the rootfs's passwd
   * @param options the build's {@code --add-host}, {@code --shm-size} and {@code --ulimit}
   */
  record Exec(List<String> argv, List<String> env, String cwd, String user, Network network, boolean insecure,
      List<Mount> mounts, RunOptions options) implements Action {
    public Exec {
      argv = List.copyOf(argv);
      env = List.copyOf(env);
      mounts = List.copyOf(mounts);
    }

    /** A RUN with the worker's defaults for hosts, /dev/shm and rlimits. */
    public Exec(List<String> argv, List<String> env, String cwd, String user, Network network, boolean insecure,
        List<Mount> mounts) {
      this(argv, env, cwd, user, network, insecure, mounts, RunOptions.NONE);
    }
  }

  /** RUN --network. */
  enum Network {
    DEFAULT,
    NONE,
    HOST
  }

  /**
   * COPY, ADD and heredoc files.
   *
   * @param dest absolute in the rootfs, the working dir applied
   * @param destIsDir the Dockerfile makes dest a directory (trailing '/', several sources,
   *     --parents); otherwise a single file (also a lone wildcard match) lands on dest itself unless
   *     dest is a directory in the rootfs
   * @param chown {@code --chown} as written, {@code ""} when absent (then context and inline files
   *     are 0:0 and {@code --from} files keep their owners); resolved through the rootfs's passwd
   * @param chmod {@code --chmod}, octal; empty when absent
   * @param exclude {@code --exclude} patterns
   * @param parents {@code --parents}
   * @param link {@code --link} (a plain copy today)
   * @param chmodSymbolic {@code --chmod} in symbolic form, applied per entry relative to its mode;
   *     empty when absent or octal (at most one of it and {@code chmod} is present)
   */
  record Copy(List<CopySource> sources, String dest, boolean destIsDir, String chown, OptionalInt chmod,
      List<String> exclude, boolean parents, boolean link, Unpack unpack, Optional<SymbolicMode> chmodSymbolic)
      implements Action {
    public Copy {
      sources = List.copyOf(sources);
      exclude = List.copyOf(exclude);
      if (chmod.isPresent() && chmodSymbolic.isPresent()) {
        throw new IllegalArgumentException("a copy has an octal and a symbolic --chmod");
      }
    }

    /** A copy without a symbolic --chmod. */
    public Copy(List<CopySource> sources, String dest, boolean destIsDir, String chown, OptionalInt chmod,
        List<String> exclude, boolean parents, boolean link, Unpack unpack) {
      this(sources, dest, destIsDir, chown, chmod, exclude, parents, link, unpack, Optional.empty());
    }
  }

  /** Which archives ADD extracts. */
  enum Unpack {
    /** COPY, ADD --unpack=false. */
    NEVER,
    /** ADD: local tar archives (plain, gzip, bzip2, xz); downloads are copied as they are. */
    LOCAL,
    /** ADD --unpack=true: downloaded archives too. */
    ALL
  }

  /**
   * WORKDIR's directory: made with its missing parents when missing (a layer only then).
   *
   * @param owner the config's user, as for {@link Exec#user()}; an unknown user means root
   */
  record Mkdir(String path, String owner) implements Action {}
}
