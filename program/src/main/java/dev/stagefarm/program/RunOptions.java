package dev.stagefarm.program;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a build's {@code --add-host}, {@code --shm-size} and {@code --ulimit} give every RUN, as
 * BuildKit's Dockerfile frontend does: extra lines in /etc/hosts, the size of /dev/shm, rlimits.
 * Each is part of the op's cache key when set (in BuildKit they are in the ExecOp's definition
 * too: extra hosts and ulimits in its meta, shm-size as a tmpfs mount on /dev/shm).
 *
 * <p>The values come from clients and reach /etc/hosts and runc's config: every constructor
 * checks them, so a host name cannot add lines or an rlimit name pick another field.
 *
 * @param extraHosts extra /etc/hosts entries, in order
 * @param shmSizeBytes the size of /dev/shm, 0 for the worker's default (64 MiB)
 * @param ulimits rlimits, at most one per name
 */
public record RunOptions(List<ExtraHost> extraHosts, long shmSizeBytes, List<Ulimit> ulimits) {

  /** Nothing beyond the worker's defaults. */
  public static final RunOptions NONE = new RunOptions(List.of(), 0, List.of());

  /** At most this many extra hosts or ulimits: /etc/hosts and the runc config stay small. */
  public static final int MAX_ENTRIES = 100;

  /** At most 64 GiB of /dev/shm; the RUN's memory limit still applies to what it writes there. */
  public static final long MAX_SHM_SIZE = 64L << 30;

  public RunOptions {
    extraHosts = List.copyOf(extraHosts);
    ulimits = List.copyOf(ulimits);
    if (extraHosts.size() > MAX_ENTRIES || ulimits.size() > MAX_ENTRIES) {
      throw new IllegalArgumentException("at most " + MAX_ENTRIES + " extra hosts and " + MAX_ENTRIES + " ulimits");
    }
    if (shmSizeBytes < 0 || shmSizeBytes > MAX_SHM_SIZE) {
      throw new IllegalArgumentException("shm-size " + shmSizeBytes + " is out of range (0 to " + MAX_SHM_SIZE
          + " bytes)");
    }
    if (ulimits.stream().map(Ulimit::name).distinct().count() != ulimits.size()) {
      throw new IllegalArgumentException("a ulimit is given twice");
    }
  }

  public boolean isEmpty() {
    return extraHosts.isEmpty() && shmSizeBytes == 0 && ulimits.isEmpty();
  }

  /** One /etc/hosts line: {@code ip host}. */
  public record ExtraHost(String host, String ip) {
    // RFC 1123 labels (underscores too, as Docker accepts them): nothing that could end a line or start a comment
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
        + "(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    public ExtraHost {
      if (!HOST.matcher(host).matches()) {
        throw new IllegalArgumentException("invalid host name \"" + printable(host) + "\" in an extra host");
      }
      if (!IPV4.matcher(ip).matches() && !(ip.contains(":") && IPV6.matcher(ip).matches() && isIpv6(ip))) {
        throw new IllegalArgumentException("invalid IP address \"" + printable(ip) + "\" for host " + host
            + (ip.equals("host-gateway") ? " (host-gateway is not supported: a farm's worker is not the client's host)"
                : ""));
      }
    }

    /**
     * {@code HOST:IP} or {@code HOST=IP} as docker buildx takes them; an IPv6 address after
     * the first ':' ({@code db:::1}) or in brackets ({@code db:[::1]}).
     */
    public static ExtraHost parse(String text) {
      int eq = text.indexOf('=');
      int sep = eq >= 0 ? eq : text.indexOf(':');
      if (sep <= 0) {
        throw new IllegalArgumentException("an extra host is HOST:IP, not \"" + printable(text) + "\"");
      }
      String ip = text.substring(sep + 1);
      if (ip.startsWith("[") && ip.endsWith("]")) {
        ip = ip.substring(1, ip.length() - 1);
      }
      return new ExtraHost(text.substring(0, sep), ip);
    }

    private static boolean isIpv6(String ip) {
      try {
        // a literal with ':' is parsed, never looked up
        return java.net.InetAddress.getByName(ip) instanceof java.net.Inet6Address;
      } catch (java.net.UnknownHostException e) {
        return false;
      }
    }
  }

  /**
   * An rlimit: {@code name} as docker's {@code --ulimit} names it, {@code -1} for unlimited.
   */
  public record Ulimit(String name, long soft, long hard) {
    /** docker's names (go-units), each an RLIMIT_ of the kernel. */
    public static final Set<String> NAMES = Set.of("as", "core", "cpu", "data", "fsize", "locks", "memlock",
        "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack");

    public Ulimit {
      if (!NAMES.contains(name)) {
        throw new IllegalArgumentException("unknown ulimit \"" + printable(name) + "\" (one of "
            + String.join(", ", NAMES.stream().sorted().toList()) + ")");
      }
      if (soft < -1 || hard < -1) {
        throw new IllegalArgumentException("ulimit " + name + ": a value is a number of at least 0, or -1 for unlimited");
      }
      if (hard != -1 && (soft == -1 || soft > hard)) {
        throw new IllegalArgumentException("ulimit " + name + ": the soft limit " + soft
            + " is above the hard limit " + hard);
      }
    }

    /** {@code NAME=SOFT[:HARD]} as docker's {@code --ulimit}; a lone value is both limits. */
    public static Ulimit parse(String text) {
      int eq = text.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("a ulimit is NAME=SOFT[:HARD], not \"" + printable(text) + "\"");
      }
      String name = text.substring(0, eq).toLowerCase(Locale.ROOT);
      String[] limits = text.substring(eq + 1).split(":", -1);
      if (limits.length > 2) {
        throw new IllegalArgumentException("a ulimit is NAME=SOFT[:HARD], not \"" + printable(text) + "\"");
      }
      long soft = value(name, limits[0]);
      return new Ulimit(name, soft, limits.length == 2 ? value(name, limits[1]) : soft);
    }

    /** The OCI runtime spec's type: {@code RLIMIT_NOFILE}. */
    public String rlimitType() {
      return "RLIMIT_" + name.toUpperCase(Locale.ROOT);
    }

    private static long value(String name, String text) {
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("ulimit " + printable(name) + ": \"" + printable(text) + "\" is not a number");
      }
    }
  }

  /** {@code --shm-size}: bytes, or a number with b, k, m, g (powers of 1024, as docker's RAMInBytes). */
  public static long parseSize(String text) {
    var m = Pattern.compile("(?i)([0-9]+(?:\\.[0-9]+)?)\\s*([kmgt]?)(?:i?b)?").matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("invalid size \"" + printable(text) + "\" (bytes, or a number with k, m or g)");
    }
    int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      case "t" -> 40;
      default -> 0;
    };
    double bytes = Double.parseDouble(m.group(1)) * (1L << shift);
    if (bytes > MAX_SHM_SIZE) {
      throw new IllegalArgumentException("size \"" + printable(text) + "\" is over the limit of 64g");
    }
    return (long) bytes;
  }

  /** The text with control characters shown as escapes, for an error message. */
  private static String printable(String text) {
    String shown = text.length() > 80 ? text.substring(0, 80) + "…" : text;
    StringBuilder out = new StringBuilder();
    shown.codePoints().forEach(c -> {
      if (Character.isISOControl(c)) {
        out.append(String.format("\\x%02x", c));
      } else {
        out.appendCodePoint(c);
      }
    });
    return out.toString();
  }
}
