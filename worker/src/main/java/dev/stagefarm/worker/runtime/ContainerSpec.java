package dev.stagefarm.worker.runtime;

import dev.stagefarm.program.RunOptions;
import java.nio.file.Path;
import java.util.List;

/**
 * What one RUN container needs: the process and its mounts. {@link OciBundle} turns it into runc's
 * config.json.
 *
 * @param rootfs the merged overlay the process sees as /
 * @param args argv (shell form already wrapped in the stage's SHELL)
 * @param env {@code NAME=value}
 * @param cwd working directory inside the container (exists)
 * @param user resolved numeric ids
 * @param hostname the container's hostname
 * @param network the network namespace the process gets
 * @param mounts extra mounts (cache, secret, bind, tmpfs), after the standard ones
 * @param privileged {@code RUN --security=insecure}: every capability, no masked or read-only
 *     /proc paths, a writable /sys (BuildKit's insecure mode, minus host devices)
 * @param options the build's extra /etc/hosts entries, /dev/shm size and rlimits
 */
public record ContainerSpec(
    Path rootfs,
    List<String> args,
    List<String> env,
    String cwd,
    ResolvedUser user,
    String hostname,
    Network network,
    List<Mount> mounts,
    boolean privileged,
    RunOptions options) {

  public ContainerSpec {
    args = List.copyOf(args);
    env = List.copyOf(env);
    mounts = List.copyOf(mounts);
  }

  /** A container with the worker's default hosts, /dev/shm and rlimits. */
  public ContainerSpec(Path rootfs, List<String> args, List<String> env, String cwd, ResolvedUser user, String hostname,
      Network network, List<Mount> mounts, boolean privileged) {
    this(rootfs, args, env, cwd, user, hostname, network, mounts, privileged, RunOptions.NONE);
  }

  /** A sandboxed container (BuildKit's default {@code --security=sandbox}). */
  public ContainerSpec(Path rootfs, List<String> args, List<String> env, String cwd, ResolvedUser user, String hostname,
      Network network, List<Mount> mounts) {
    this(rootfs, args, env, cwd, user, hostname, network, mounts, false);
  }

  /** Which network namespace the container gets. */
  public sealed interface Network {
    /** The worker host's own namespace ({@code --network=host}, only with the worker's entitlement). */
    Network HOST = new Host();
    /** A fresh namespace with only loopback ({@code --network=none}). */
    Network NONE = new Loopback();

    record Host() implements Network {}

    record Loopback() implements Network {}

    /** A namespace the worker prepared ({@link SandboxNetwork}), joined by its bound path. */
    record Joined(Path namespace) implements Network {}
  }

  /** A mount in the OCI runtime spec's terms. */
  public record Mount(String destination, String type, String source, List<String> options) {
    public Mount {
      options = List.copyOf(options);
    }

    public static Mount bind(Path source, String destination, boolean readOnly) {
      return new Mount(destination, "bind", source.toAbsolutePath().toString(),
          readOnly ? List.of("rbind", "ro", "nosuid", "nodev") : List.of("rbind", "rw", "nosuid", "nodev"));
    }

    public static Mount tmpfs(String destination, long sizeBytes) {
      return new Mount(destination, "tmpfs", "tmpfs", sizeBytes > 0
          ? List.of("nosuid", "nodev", "size=" + sizeBytes) : List.of("nosuid", "nodev"));
    }
  }
}
