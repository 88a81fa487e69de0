package dev.stagefarm.cli.ops;

import java.net.InetSocketAddress;

/**
 * A {@code HOST:PORT} to listen at: {@code 127.0.0.1:9464}, {@code [::1]:9464}, or {@code :9464}
 * for every interface.
 */
public record ListenAddress(String host, int port) {

  /** @throws IllegalArgumentException naming what is wrong with {@code text} */
  public static ListenAddress parse(String text) {
    String s = text.strip();
    int colon = s.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("'" + text + "' is not HOST:PORT (e.g. 0.0.0.0:9464, :9464)");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException("'" + text + "': write an IPv6 host in brackets, e.g. [::1]:9464");
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "': the port is not a number");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("'" + text + "': the port is not between 0 and 65535");
    }
    return new ListenAddress(host.isEmpty() ? "0.0.0.0" : host, port);
  }

  InetSocketAddress socketAddress() {
    return new InetSocketAddress(host, port);
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
