package dev.stagefarm.worker.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.stagefarm.program.RunOptions;
import java.util.List;

/**
 * Writes an OCI runtime bundle (config.json, /etc/hosts, /etc/resolv.conf) for one RUN. The
 * container gets fresh pid, ipc, uts and mount namespaces, the network namespace of its
 * {@link ContainerSpec.Network}, /proc, a
 * tmpfs /dev with the default devices, /dev/pts, /dev/shm, a read-only /sys, and nothing else of
 * the host: hosts and resolv.conf are generated files in the bundle. A sandboxed RUN also gets
 * Docker's masked and read-only /proc paths, a seccomp profile modelled on Docker's, and
 * noNewPrivileges; every RUN gets the worker's cgroup limits.
 */
public final class OciBundle {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Docker's default capability set for containers (what BuildKit grants a RUN). */
  private static final List<String> CAPABILITIES = List.of(
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
      "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
      "CAP_AUDIT_WRITE");

  /** Every capability, in kernel number order (CAP_CHOWN = 0 …). */
  private static final List<String> ALL_CAPABILITIES = List.of(
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
      "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
      "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
      "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
      "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
      "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
      "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");

  /** Docker's masked paths: kernel state a build has no business reading. */
  private static final List<String> MASKED_PATHS = List.of("/proc/acpi", "/proc/asound", "/proc/interrupts",
      "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
      "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap");

  /** Docker's read-only paths: kernel settings that are not namespaced. */
  private static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
      "/proc/sysrq-trigger");

  private final long nofileHardLimit;
  private final RunLimits limits;

  /** @param nofileHardLimit the caller's hard RLIMIT_NOFILE: a container may not get more (no CAP_SYS_RESOURCE) */
  public OciBundle(long nofileHardLimit) {
    this(nofileHardLimit, RunLimits.none());
  }

  /**
   * @param nofileHardLimit the caller's hard RLIMIT_NOFILE: a container may not get more (no CAP_SYS_RESOURCE)
   * @param limits the cgroup limits of every RUN, insecure ones included
   */
  public OciBundle(long nofileHardLimit, RunLimits limits) {
    this.nofileHardLimit = nofileHardLimit;
    this.limits = limits;
  }

  /** The cgroup limits this bundle writer gives every RUN. */
  public RunLimits limits() {
    return limits;
  }

  /**
   * Creates {@code dir} with config.json and the generated files; returns {@code dir}.
   *
   * @param resolvConf the container's /etc/resolv.conf: the one that works in its network
   */
  public Path write(Path dir, ContainerSpec spec, String resolvConf) throws IOException {
    Files.createDirectories(dir);
    Path hosts = dir.resolve("hosts");
    StringBuilder hostsText = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    // --add-host entries (checked names and IP literals: RunOptions.ExtraHost), before the container's own name
    spec.options().extraHosts().forEach(h -> hostsText.append(h.ip()).append('\t').append(h.host()).append('\n'));
    hostsText.append("127.0.1.1\t").append(spec.hostname()).append('\n');
    Files.writeString(hosts, hostsText, StandardCharsets.UTF_8);
    Path resolv = dir.resolve("resolv.conf");
    Files.writeString(resolv, resolvConf, StandardCharsets.UTF_8);
    Path hostname = dir.resolve("hostname");
    Files.writeString(hostname, spec.hostname() + "\n", StandardCharsets.UTF_8);
    // compact: runc reads it, no one else
    Files.write(dir.resolve("config.json"), JSON.writeValueAsBytes(config(spec, hosts, resolv, hostname)));
    return dir;
  }

  ObjectNode config(ContainerSpec spec, Path hosts, Path resolv, Path hostname) {
    ObjectNode root = JSON.createObjectNode();
    root.put("ociVersion", "1.0.2");
    ObjectNode process = root.putObject("process");
    process.put("terminal", false);
    ObjectNode user = process.putObject("user");
    user.put("uid", spec.user().uid());
    user.put("gid", spec.user().gid());
    if (!spec.user().additionalGids().isEmpty()) {
      ArrayNode gids = user.putArray("additionalGids");
      spec.user().additionalGids().forEach(gids::add);
    }
    strings(process.putArray("args"), spec.args());
    strings(process.putArray("env"), spec.env());
    process.put("cwd", spec.cwd());
    ObjectNode caps = process.putObject("capabilities");
    for (String set : List.of("bounding", "effective", "permitted")) {
      strings(caps.putArray(set), spec.privileged() ? workerCapabilities() : sandboxCapabilities(spec.network()));
    }
    rlimits(process.putArray("rlimits"), spec.options().ulimits());
    // setuid binaries in the image cannot raise a RUN's privileges; insecure RUNs keep BuildKit's behaviour
    process.put("noNewPrivileges", !spec.privileged());

    root.putObject("root").put("path", spec.rootfs().toAbsolutePath().toString()).put("readonly", false);
    root.put("hostname", spec.hostname());

    ArrayNode mounts = root.putArray("mounts");
    mount(mounts, "/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev"));
    mount(mounts, "/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
    mount(mounts, "/dev/pts", "devpts", "devpts",
        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"));
    long shm = spec.options().shmSizeBytes();
    // --shm-size; its pages count against the RUN's memory limit like any tmpfs file
    mount(mounts, "/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777",
        shm > 0 ? "size=" + shm : "size=65536k"));
    mount(mounts, "/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev"));
    mount(mounts, "/sys", "sysfs", "sysfs", spec.privileged()
        ? List.of("nosuid", "noexec", "nodev", "rw") : List.of("nosuid", "noexec", "nodev", "ro"));
    // the RUN's own cgroups, read-only (as Docker and BuildKit): tools size themselves by its limits
    mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro"));
    mount(mounts, "/etc/hosts", "bind", hosts.toString(), List.of("rbind", "ro"));
    mount(mounts, "/etc/resolv.conf", "bind", resolv.toString(), List.of("rbind", "ro"));
    mount(mounts, "/etc/hostname", "bind", hostname.toString(), List.of("rbind", "ro"));
    for (ContainerSpec.Mount m : spec.mounts()) {
      mount(mounts, m.destination(), m.type(), m.source(), m.options());
    }

    ObjectNode linux = root.putObject("linux");
    ArrayNode namespaces = linux.putArray("namespaces");
    for (String ns : List.of("pid", "ipc", "uts", "mount")) {
      namespaces.addObject().put("type", ns);
    }
    network(linux, namespaces, spec.network());
    limits.writeTo(linux.putObject("resources"));
    if (spec.privileged()) {
      return root; // nothing of /proc hidden or read-only, no seccomp filter
    }
    confine(linux);
    return root;
  }

  /**
   * RLIMIT_NOFILE at 1Mi (or the worker's own hard limit), then the build's {@code --ulimit}s.
   * -1 is unlimited (the spec's largest value). A RUN's RLIMIT_NOFILE never exceeds the worker's
   * own hard limit: the kernel's nr_open and the worker's configuration bound it, not the build.
   */
  private void rlimits(ArrayNode rlimits, List<RunOptions.Ulimit> ulimits) {
    long maxNofile = Math.min(1_048_576, nofileHardLimit);
    boolean nofileSet = false;
    for (RunOptions.Ulimit u : ulimits) {
      // -1 (unlimited) read as unsigned is RLIM_INFINITY
      long soft = u.soft();
      long hard = u.hard();
      if (u.name().equals("nofile")) {
        nofileSet = true;
        soft = Long.compareUnsigned(soft, maxNofile) > 0 ? maxNofile : soft;
        hard = Long.compareUnsigned(hard, maxNofile) > 0 ? maxNofile : hard;
      }
      ObjectNode limit = rlimits.addObject().put("type", u.rlimitType());
      limit.put("hard", new java.math.BigInteger(Long.toUnsignedString(hard)));
      limit.put("soft", new java.math.BigInteger(Long.toUnsignedString(soft)));
    }
    if (!nofileSet) {
      rlimits.addObject().put("type", "RLIMIT_NOFILE").put("hard", maxNofile).put("soft", maxNofile);
    }
  }

  /** What a sandboxed RUN gets beyond its namespaces: Docker's masked and read-only paths and seccomp profile. */
  private static void confine(ObjectNode linux) {
    strings(linux.putArray("maskedPaths"), MASKED_PATHS);
    strings(linux.putArray("readonlyPaths"), READONLY_PATHS);
    linux.putRawValue("seccomp", SeccompProfile.defaultProfileJson());
  }

  /**
   * Docker's set, minus CAP_NET_RAW in a {@link SandboxNetwork}: a packet socket would hand
   * slirp4netns frames that skip the namespace's routes, i.e. reach the worker host. A ping that
   * falls back to ICMP datagram sockets (iputils) may still open one ({@code ping_group_range}, as
   * Docker sets it); busybox's ping needs a raw socket and fails.
   */
  private static List<String> sandboxCapabilities(ContainerSpec.Network network) {
    if (network instanceof ContainerSpec.Network.Joined) {
      return CAPABILITIES.stream().filter(c -> !c.equals("CAP_NET_RAW")).toList();
    }
    return CAPABILITIES;
  }

  private static void network(ObjectNode linux, ArrayNode namespaces, ContainerSpec.Network network) {
    switch (network) {
      case ContainerSpec.Network.Host host -> {
        return; // the worker's namespace: no net.* sysctls either
      }
      case ContainerSpec.Network.Loopback loopback -> namespaces.addObject().put("type", "network");
      case ContainerSpec.Network.Joined joined ->
          namespaces.addObject().put("type", "network").put("path", joined.namespace().toAbsolutePath().toString());
    }
    linux.putObject("sysctl").put("net.ipv4.ping_group_range", "0 2147483647");
  }

  /**
   * Every capability the worker itself may hold (its bounding set): all of them for a worker on a
   * host, fewer when the worker runs in a restricted container. runc cannot grant more, and asking
   * for a capability outside its bounding set leaves the container with a mangled set.
   */
  private static List<String> workerCapabilities() {
    long bounding;
    try {
      bounding = Files.readAllLines(Path.of("/proc/self/status")).stream()
          .filter(l -> l.startsWith("CapBnd:"))
          .mapToLong(l -> Long.parseUnsignedLong(l.substring("CapBnd:".length()).strip(), 16))
          .findFirst().orElse(0);
    } catch (IOException | NumberFormatException e) {
      return CAPABILITIES;
    }
    List<String> caps = new java.util.ArrayList<>();
    for (int bit = 0; bit < ALL_CAPABILITIES.size(); bit++) {
      if ((bounding & (1L << bit)) != 0) {
        caps.add(ALL_CAPABILITIES.get(bit));
      }
    }
    return caps;
  }

  private static void mount(ArrayNode mounts, String destination, String type, String source, List<String> options) {
    ObjectNode m = mounts.addObject();
    m.put("destination", destination).put("type", type).put("source", source);
    strings(m.putArray("options"), options);
  }

  private static void strings(ArrayNode array, List<String> values) {
    values.forEach(array::add);
  }
}
