package dev.stagefarm.coordinator.compile;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * EXPOSE's ports as BuildKit writes them to the config ({@code convert_expose.go}): one
 * {@code <port>/<proto>} per port of a range, the protocol lower-cased, {@code tcp} by default;
 * {@code [ip:]hostPort:} prefixes are accepted and dropped.
 */
final class ExposedPorts {
  private ExposedPorts() {}

  private record PortRange(int first, int last) {
    int size() {
      return last - first;
    }
  }

  /** @throws IllegalArgumentException with BuildKit's message for an invalid spec */
  static List<String> normalize(List<String> specs) {
    List<String> out = new ArrayList<>();
    for (String spec : specs) {
      out.addAll(parse(spec));
    }
    return List.copyOf(out);
  }

  private static List<String> parse(String spec) {
    String[] parts = spec.split(":", -1);
    String containerPort = parts[parts.length - 1];
    String hostPort = parts.length >= 2 ? parts[parts.length - 2] : "";
    int slash = containerPort.indexOf('/');
    String port = slash < 0 ? containerPort : containerPort.substring(0, slash);
    String proto = slash < 0 ? "" : containerPort.substring(slash + 1).toLowerCase(Locale.ROOT);
    if (port.isEmpty()) {
      throw new IllegalArgumentException("invalid port: \"" + spec + "\": no port specified");
    }
    if (proto.isEmpty()) {
      proto = "tcp";
    } else if (!proto.equals("tcp") && !proto.equals("udp") && !proto.equals("sctp")) {
      throw new IllegalArgumentException(
          "invalid port: \"" + spec + "\": invalid proto: " + containerPort.substring(slash + 1));
    }
    PortRange range = range(port, "containerPort");
    if (!hostPort.isEmpty()) {
      // a host range is allowed for one container port (Docker allocates into it)
      if (range.size() != range(hostPort, "hostPort").size() && range.size() != 0) {
        throw new IllegalArgumentException(
            "invalid ranges specified for container and host Ports: " + port + " and " + hostPort);
      }
    }
    List<String> ports = new ArrayList<>();
    for (int p = range.first(); p <= range.last(); p++) {
      ports.add(p + "/" + proto);
    }
    return ports;
  }

  private static PortRange range(String ports, String what) {
    int dash = ports.indexOf('-');
    String start = dash < 0 ? ports : ports.substring(0, dash);
    String end = dash < 0 ? start : ports.substring(dash + 1);
    int first = number(start, ports, what);
    int last = start.equals(end) ? first : number(end, ports, what);
    if (last < first) {
      throw new IllegalArgumentException("invalid " + what + ": " + ports);
    }
    return new PortRange(first, last);
  }

  private static int number(String text, String ports, String what) {
    try {
      int n = Integer.parseInt(text);
      if (n >= 0 && n <= 65535) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("invalid " + what + ": " + ports);
  }
}
