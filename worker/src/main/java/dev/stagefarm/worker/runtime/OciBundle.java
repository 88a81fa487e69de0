package dev.stagefarm.worker.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes an OCI runtime bundle (config.json, /etc/hosts, /etc/resolv.conf) for one RUN. The
 * container gets fresh pid, ipc, uts and mount namespaces (and network unless host), /proc, a
 * tmpfs /dev with the default devices, /dev/pts, /dev/shm, a read-only /sys, and nothing else of
 * the host: hosts and resolv.conf are generated files in the bundle.
 */
public final class OciBundle {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Docker's default capability set for containers (what BuildKit grants a RUN). */
  private static final List<String> CAPABILITIES = List.of(
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
      "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
      "CAP_AUDIT_WRITE");

  private final long nofileHardLimit;

  /** @param nofileHardLimit the caller's hard RLIMIT_NOFILE: a container may not get more (no CAP_SYS_RESOURCE) */
  public OciBundle(long nofileHardLimit) {
    this.nofileHardLimit = nofileHardLimit;
  }

  /** Creates {@code dir} with config.json and the generated files; returns {@code dir}. */
  public Path write(Path dir, ContainerSpec spec, String resolvConf) throws IOException {
    Files.createDirectories(dir);
    Path hosts = dir.resolve("hosts");
    Files.writeString(hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t"
        + spec.hostname() + "\n", StandardCharsets.UTF_8);
    Path resolv = dir.resolve("resolv.conf");
    Files.writeString(resolv, spec.hostNetwork() ? resolvConf : "", StandardCharsets.UTF_8);
    Path hostname = dir.resolve("hostname");
    Files.writeString(hostname, spec.hostname() + "\n", StandardCharsets.UTF_8);
    Files.write(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config(spec, hosts, resolv, hostname)));
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
      strings(caps.putArray(set), CAPABILITIES);
    }
    ArrayNode rlimits = process.putArray("rlimits");
    long nofile = Math.min(1_048_576, nofileHardLimit);
    rlimits.addObject().put("type", "RLIMIT_NOFILE").put("hard", nofile).put("soft", nofile);
    process.put("noNewPrivileges", false);

    root.putObject("root").put("path", spec.rootfs().toAbsolutePath().toString()).put("readonly", false);
    root.put("hostname", spec.hostname());

    ArrayNode mounts = root.putArray("mounts");
    mount(mounts, "/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev"));
    mount(mounts, "/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
    mount(mounts, "/dev/pts", "devpts", "devpts",
        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"));
    mount(mounts, "/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
    mount(mounts, "/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev"));
    mount(mounts, "/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"));
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
    if (!spec.hostNetwork()) {
      namespaces.addObject().put("type", "network");
    }
    strings(linux.putArray("maskedPaths"), List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware"));
    strings(linux.putArray("readonlyPaths"), List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
        "/proc/sysrq-trigger"));
    return root;
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
