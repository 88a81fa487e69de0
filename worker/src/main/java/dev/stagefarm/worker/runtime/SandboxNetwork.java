package dev.stagefarm.worker.runtime;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The default network of a RUN: a fresh network namespace with outbound access through slirp4netns
 * (user-mode TCP/IP: the RUN's connections become ordinary sockets of the slirp4netns process on the
 * worker host), and no route to the worker host itself or to link-local addresses.
 *
 * <p>The namespace is made before runc starts, bound to a file in the RUN's scratch dir, and runc
 * joins it by path: when the RUN's first command runs, outbound access and the blocked routes are
 * already in place (a runc hook would race the process), the worker owns slirp4netns's lifetime
 * (stdin is its exit fd: a killed worker takes it along), and a killed worker's namespace is a
 * mount under its work dir, which the start-up cleanup removes like every other mount.
 *
 * <p>slirp4netns connects from the host's network stack, so a connection to an address of the
 * worker host (its Kafka, S3, coordinator, sshd) would reach it. Inside the namespace every such
 * address, and 169.254.0.0/16 (cloud metadata), gets an {@code unreachable} route; host loopback
 * (10.0.2.2) is closed by {@code --disable-host-loopback}; {@code --enable-sandbox} confines
 * slirp4netns itself (its own mount namespace, no capabilities but CAP_NET_BIND_SERVICE; started in a private
 * mount namespace, so that its sandbox's unmounts cannot reach the host's mounts). A RUN has no CAP_NET_ADMIN, so it cannot
 * change routes, and no CAP_NET_RAW (see {@link OciBundle}), so it cannot open a packet socket and
 * hand slirp4netns frames that skip the routing table.
 */
public final class SandboxNetwork {
  /** slirp4netns's DNS forwarder inside the namespace; it forwards to the worker host's resolvers. */
  public static final String RESOLV_CONF = "nameserver 10.0.2.3\n";
  /** IPv4 link-local, where cloud metadata services (169.254.169.254) live. */
  static final String LINK_LOCAL = "169.254.0.0/16";
  private static final long READY_TIMEOUT_SECONDS = 10;

  private final String slirp4netns;

  /** @param slirp4netns the slirp4netns binary (1.1 or newer: {@code --netns-type=path}) */
  public SandboxNetwork(String slirp4netns) {
    this.slirp4netns = slirp4netns;
  }

  /**
   * Creates a namespace bound at {@code nsFile} with loopback, slirp4netns on {@code tap0} and the
   * blocked routes. The caller closes it once the container has ended.
   */
  public Namespace create(Path nsFile) throws IOException, InterruptedException {
    Files.createDirectories(nsFile.getParent());
    Files.createFile(nsFile);
    List<String> blocked = blockedDestinations();
    Namespace ns = new Namespace(nsFile, blocked);
    try {
      // loopback and the blocked routes need no interface, so they are in place before slirp4netns adds tap0 and
      // the default route
      StringBuilder setup = new StringBuilder("link set lo up\n");
      for (String destination : blocked) {
        setup.append("route add unreachable ").append(destination).append('\n');
      }
      ns.slirp = startSlirp(nsFile, setup.toString());
      return ns;
    } catch (IOException | InterruptedException | RuntimeException e) {
      ns.close();
      throw e;
    }
  }

  /**
   * What a RUN must not reach: link-local, and every IPv4 address of the worker host's interfaces
   * (loopback excluded: 127/8 inside the namespace is the namespace's own). Read per RUN, so an
   * address the host gained since the worker started is blocked too. slirp4netns runs without
   * IPv6 here, so the namespace has no IPv6 route at all.
   */
  static List<String> blockedDestinations() throws SocketException {
    TreeSet<String> hostAddresses = new TreeSet<>();
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
          hostAddresses.add(address.getHostAddress() + "/32");
        }
      }
    }
    List<String> blocked = new ArrayList<>();
    blocked.add(LINK_LOCAL);
    blocked.addAll(hostAddresses);
    return blocked;
  }

  /**
   * One process from Java for the whole set-up (a fork and exec from the JVM and a file for the batch fewer per
   * RUN; 32 at once in a cold one-shot fan-out, session 13): the shell makes the namespace with {@code ip}'s
   * {@code setup} batch (from a pipe), and only if that succeeded becomes slirp4netns.
   */
  private Process startSlirp(Path nsFile, String setup) throws IOException, InterruptedException {
    // fd 3 (the ready fd) is our stdout; fd 4 (the exit fd) our stdin pipe; slirp's chatter, and ip's, goes to a log
    Path log = nsFile.resolveSibling(nsFile.getFileName() + ".slirp4netns.log");
    // slirp4netns in a mount namespace of its own, private recursively: --enable-sandbox makes "/" private but
    // not its submounts, then lazily unmounts the old root, which unmounted by propagation every leaf mount
    // under a shared mount of the host (a Docker engine's container roots: their containers started
    // with an empty root)
    List<String> command = List.of("sh", "-c",
        "printf %s \"$0\" | unshare --net=\"$1\" ip -batch - 1>&2 || exit 1; shift; "
            + "exec unshare --mount --propagation private -- \"$@\" 3>&1 1>&2 4<&0",
        setup, nsFile.toAbsolutePath().toString(), slirp4netns,
        "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--ready-fd=3", "--exit-fd=4",
        "--netns-type=path", nsFile.toAbsolutePath().toString(), "tap0");
    Process process;
    try {
      process = new ProcessBuilder(command).redirectError(log.toFile()).start();
    } catch (IOException e) {
      throw new IOException("cannot start " + slirp4netns + ": " + e.getMessage(), e);
    }
    InputStream ready = process.getInputStream();
    CompletableFuture<Integer> firstByte = CompletableFuture.supplyAsync(() -> {
      try {
        return ready.read();
      } catch (IOException e) {
        return -1;
      }
    }, task -> Thread.ofVirtual().start(task));
    int b;
    try {
      b = firstByte.get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      b = -1;
    } catch (InterruptedException e) {
      process.destroyForcibly();
      throw e;
    }
    if (b != '1') {
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
      throw new IOException("setting up the RUN's network (unshare, ip, " + slirp4netns + ") failed: " + logTail(log));
    }
    return process;
  }

  private static String logTail(Path log) {
    try {
      String text = Files.readString(log, StandardCharsets.UTF_8).strip();
      return text.isEmpty() ? "(no output)" : text.substring(Math.max(0, text.length() - 1000));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** A prepared namespace; {@link #close()} stops slirp4netns and removes the namespace. */
  public static final class Namespace implements AutoCloseable {
    private final Path file;
    private final List<String> blocked;
    private Process slirp;

    private Namespace(Path file, List<String> blocked) {
      this.file = file;
      this.blocked = List.copyOf(blocked);
    }

    /** The destinations this namespace routes to {@code unreachable}, as {@link #blockedDestinations()} gave them. */
    public List<String> blocked() {
      return blocked;
    }

    /** Whether its slirp4netns still runs (a namespace whose slirp4netns died has no outbound network). */
    public boolean alive() {
      return slirp != null && slirp.isAlive();
    }

    /** The bound namespace, for runc's {@code linux.namespaces[].path}. */
    public Path path() {
      return file;
    }

    @Override
    public void close() throws IOException {
      if (slirp != null) {
        slirp.destroy();
        try {
          if (!slirp.waitFor(5, TimeUnit.SECONDS)) {
            slirp.destroyForcibly();
          }
        } catch (InterruptedException e) {
          slirp.destroyForcibly();
          Thread.currentThread().interrupt();
        }
        slirp = null;
      }
      Mounts.unmount(file);
      Files.deleteIfExists(file);
      Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".slirp4netns.log"));
    }
  }

  /** True when {@code binary} names an executable file or one on PATH. */
  public static boolean available(String binary) {
    if (binary.contains("/")) {
      return Files.isExecutable(Path.of(binary));
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, binary))) {
        return true;
      }
    }
    return false;
  }
}
