package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.graph.Dependency;
import dev.stagefarm.dockerfile.instructions.CacheSharing;
import dev.stagefarm.dockerfile.instructions.PosixPaths;
import dev.stagefarm.dockerfile.instructions.RunMount;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.program.Mount;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A RUN's {@code --mount}s with their sources resolved, as BuildKit's dispatchRunMounts,
 * dispatchSecret and dispatchSSH do: targets made absolute against the working directory, context
 * binds as the selected entries, {@code from=} as a program input, default ids and targets filled in.
 */
final class MountCompiler {
  private final ContextSelector context;
  private final ProgramInputs inputs;

  MountCompiler(ContextSelector context, ProgramInputs inputs) {
    this.context = context;
    this.inputs = inputs;
  }

  /**
   * @param cwd the working directory the RUN runs in
   * @param sshIndex how many ssh mounts of the RUN come before this one (their default sockets differ)
   */
  Mount compile(RunMount m, String cwd, int line, int sshIndex) {
    return switch (m.type()) {
      case BIND -> new Mount.Bind(target(m, cwd, line), m.readOnly(), bindSource(m, line));
      case CACHE -> new Mount.Cache(
          target(m, cwd, line),
          m.readOnly(),
          m.id().isEmpty() ? PosixPaths.clean(m.target()) : m.id(),
          switch (m.sharing() == null ? CacheSharing.SHARED : m.sharing()) {
            case SHARED -> Mount.Sharing.SHARED;
            case PRIVATE -> Mount.Sharing.PRIVATE;
            case LOCKED -> Mount.Sharing.LOCKED;
          },
          m.from().isEmpty()
              ? Optional.empty()
              : Optional.of(inputs.path(Dependency.Kind.MOUNT_FROM, m.from(), line, sourceIn(m))),
          optional(m.mode()),
          optional(m.uid()),
          optional(m.gid()));
      case TMPFS -> new Mount.Tmpfs(target(m, cwd, line), m.sizeLimit());
      case SECRET -> secret(m, cwd, line);
      case SSH -> ssh(m, cwd, line, sshIndex);
    };
  }

  private Mount.BindSource bindSource(RunMount m, int line) {
    if (!m.from().isEmpty()) {
      return new Mount.FromInput(inputs.path(Dependency.Kind.MOUNT_FROM, m.from(), line, sourceIn(m)));
    }
    ContextSelection selection =
        context.mount(m.source()).orElseThrow(() -> new DockerfileException(line,
            "RUN --mount=type=bind: source \"" + m.source() + "\" not found in the build context"));
    return new Mount.FromContext(selection);
  }

  /** dispatchSecret: the id from source=, id= or the target's name; a file under /run/secrets unless env-only. */
  private static Mount secret(RunMount m, String cwd, int line) {
    String id = !m.source().isEmpty() ? m.source() : m.id();
    if (id.isEmpty()) {
      if (m.target().isEmpty()) {
        throw new DockerfileException(line, "one of source, target required");
      }
      id = ContextTree.baseName(PosixPaths.clean(m.target()));
    }
    String target = m.target();
    if (target.isEmpty() && m.env() == null) {
      target = "/run/secrets/" + ContextTree.baseName(id);
    }
    return new Mount.Secret(
        target.isEmpty() ? "" : absolute(target, cwd),
        id,
        m.env() == null ? "" : m.env(),
        m.required(),
        optional(m.mode()),
        optional(m.uid()),
        optional(m.gid()));
  }

  /** dispatchSSH: id "default" unless given, a socket under /run/buildkit unless a target is given. */
  private static Mount ssh(RunMount m, String cwd, int line, int sshIndex) {
    if (!m.source().isEmpty()) {
      throw new DockerfileException(line, "ssh does not support source");
    }
    String target = m.target().isEmpty() ? "/run/buildkit/ssh_agent." + sshIndex : absolute(m.target(), cwd);
    return new Mount.Ssh(target, m.id().isEmpty() ? "default" : m.id(), m.required());
  }

  private static String target(RunMount m, String cwd, int line) {
    String target = absolute(m.target(), cwd);
    if (target.equals("/")) {
      throw new DockerfileException(line, "invalid mount target \"/\"");
    }
    return target;
  }

  /** A mount's source= inside a stage or image: absolute and clean. */
  private static String sourceIn(RunMount m) {
    return PosixPaths.clean("/" + m.source());
  }

  private static String absolute(String path, String cwd) {
    return PosixPaths.clean(path.startsWith("/") ? path : cwd + "/" + path);
  }

  private static OptionalInt optional(Number value) {
    return value == null ? OptionalInt.empty() : OptionalInt.of(value.intValue());
  }
}
