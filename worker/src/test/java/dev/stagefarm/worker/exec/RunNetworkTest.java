package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.exec;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.Action;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.runtime.HostProcess;
import dev.stagefarm.worker.runtime.Mounts;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The RUN network for real (runc, slirp4netns, network namespaces; we are root).
 *
 * <p>The internet is played by a separate network namespace, "inet", joined to the worker host by a
 * veth pair on its own subnet (198.18.77.0/30, a benchmarking range) and routed by the host, with a
 * busybox httpd on port 8080: traffic to it leaves the host the way traffic to a mirror does. The
 * same namespace also holds 169.254.169.254, routed from the host, as a cloud's metadata service
 * would be. The farm's own services are played by one TCP server on the worker host bound to every
 * address (as Kafka, S3 and the coordinator are), reached on loopback and on the host's interface
 * address. Each server is first shown reachable from the host, so a RUN that does not reach it was
 * stopped by its sandbox.
 */
class RunNetworkTest {
  private static final String INET_NS = "sf-test-inet-" + ProcessHandle.current().pid();
  private static final String VETH = "sfti" + (ProcessHandle.current().pid() % 100000);
  private static final String INET_HOST_SIDE = "198.18.77.1";
  private static final String INTERNET = "198.18.77.2";
  private static final String METADATA = "169.254.169.254";
  private static final String GREETING = "hello from the internet";
  private static final String FARM_SERVICE = "farm-service-banner";

  private static Process httpd;
  private static ServerSocket farmService;
  private static String hostAddress;
  private static Path www;

  private LocalStages stages;

  @BeforeAll
  static void startInternetAndFarmService() throws Exception {
    sh("ip netns add " + INET_NS);
    sh("ip link add " + VETH + " type veth peer name eth0 netns " + INET_NS);
    sh("ip addr add " + INET_HOST_SIDE + "/30 dev " + VETH + " && ip link set " + VETH + " up");
    sh("ip -n " + INET_NS + " link set lo up && ip -n " + INET_NS + " addr add " + INTERNET + "/30 dev eth0"
        + " && ip -n " + INET_NS + " link set eth0 up && ip -n " + INET_NS + " addr add " + METADATA + "/32 dev lo"
        + " && ip -n " + INET_NS + " route add default via " + INET_HOST_SIDE);
    sh("ip route add " + METADATA + "/32 via " + INTERNET);
    www = Files.createTempDirectory("sf-inet-www-");
    Files.writeString(www.resolve("greeting.txt"), GREETING + "\n");
    httpd = new ProcessBuilder("ip", "netns", "exec", INET_NS, "busybox", "httpd", "-f", "-p", "8080", "-h",
        www.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();

    farmService = new ServerSocket();
    farmService.bind(new InetSocketAddress("0.0.0.0", 0));
    Thread.ofVirtual().start(() -> {
      while (!farmService.isClosed()) {
        try (Socket s = farmService.accept()) {
          s.getOutputStream().write((FARM_SERVICE + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException closed) {
          // stopped
        }
      }
    });
    hostAddress = firstHostAddress();

    // each stand-in answers from the host: a RUN that gets nothing was stopped by its sandbox
    awaitListening();
    assertThat(httpGet(INTERNET)).contains(GREETING);
    assertThat(httpGet(METADATA)).contains(GREETING);
    assertThat(banner("127.0.0.1")).contains(FARM_SERVICE);
    assertThat(banner(hostAddress)).contains(FARM_SERVICE);
  }

  @AfterAll
  static void stopAll() throws Exception {
    if (httpd != null) {
      httpd.destroy();
      httpd.waitFor();
    }
    if (farmService != null) {
      farmService.close();
    }
    shQuietly("ip route del " + METADATA + "/32 via " + INTERNET);
    shQuietly("ip link del " + VETH); // its peer goes with it
    shQuietly("ip netns del " + INET_NS);
  }

  @AfterEach
  void nothingLeftBehind() throws Exception {
    if (stages == null) {
      return;
    }
    // the worker stops: every RUN's namespace and slirp4netns, and the one kept ready, are gone
    stages.close();
    assertThat(Mounts.mountPointsUnder(stages.workDir)).isEmpty();
    assertThat(ProcessHandle.current().descendants()
        .filter(p -> p.info().command().map(c -> c.endsWith("slirp4netns")).orElse(false))
        .toList()).isEmpty();
  }

  @Test
  void aDefaultRunReachesTheInternetButNotTheWorkerHostNorMetadata() throws Exception {
    stages = LocalStages.withReadyNetworks(1); // the RUNs take namespaces made ahead, as on a worker
    int port = farmService.getLocalPort();
    var result = stages.run(program()
        .run(get(INTERNET, "/internet"))
        .run(get(METADATA, "/metadata"))
        .run(banner("10.0.2.2", port, "/host-loopback"))
        .run(banner(hostAddress, port, "/host-address"))
        .run(banner(INET_HOST_SIDE, port, "/host-veth-address"))
        .run("cp /etc/resolv.conf /resolv.conf")
        .run("(ip route del 169.254.0.0/16 || true) > /route-del 2>&1; ip route > /routes")
        .run("(arping -c 1 -w 1 -I tap0 10.0.2.2 || true) > /arping 2>&1")
        .build()).completed();
    Path root = stages.unpack(result);
    assertThat(Files.readString(root.resolve("internet"))).contains(GREETING);
    // refused at once by the namespace's routes (slirp4netns itself for host loopback), not timed out
    assertThat(Files.readString(root.resolve("metadata"))).doesNotContain(GREETING).contains("No route to host");
    assertThat(Files.readString(root.resolve("host-loopback"))).doesNotContain(FARM_SERVICE).contains("unreachable");
    assertThat(Files.readString(root.resolve("host-address"))).doesNotContain(FARM_SERVICE).contains("No route to host");
    assertThat(Files.readString(root.resolve("host-veth-address"))).doesNotContain(FARM_SERVICE)
        .contains("No route to host");
    assertThat(Files.readString(root.resolve("resolv.conf"))).isEqualTo("nameserver 10.0.2.3\n");
    // no CAP_NET_ADMIN: the unreachable routes stay; no CAP_NET_RAW: no packet socket to go around them
    assertThat(Files.readString(root.resolve("route-del"))).containsIgnoringCase("not permitted");
    assertThat(Files.readString(root.resolve("routes")))
        .contains("unreachable 169.254.0.0/16", "unreachable " + hostAddress, "default via 10.0.2.2");
    assertThat(Files.readString(root.resolve("arping"))).containsIgnoringCase("not permitted");
  }

  @Test
  void networkNoneHasNoRoute() throws Exception {
    stages = new LocalStages();
    var result = stages.run(program()
        .run(exec(get(INTERNET, "/internet") + "; ip route > /routes").network(Action.Network.NONE))
        .build()).completed();
    Path root = stages.unpack(result);
    assertThat(Files.readString(root.resolve("internet"))).doesNotContain(GREETING).contains("unreachable");
    assertThat(Files.readString(root.resolve("routes"))).isEmpty();
  }

  @Test
  void networkHostFailsWithoutTheEntitlement() throws Exception {
    stages = new LocalStages();
    StageFailure failure = stages.run(program()
        .run("echo fine > /fine")
        .run(exec("touch /should-not-run").network(Action.Network.HOST))
        .build()).failed();
    assertThat(failure.message()).contains("network.host is not allowed", "allow-host-network");
    assertThat(failure.line()).isEqualTo(3);
    assertThat(failure.retriable()).isFalse();
  }

  @Test
  void networkHostRunsInTheHostNamespaceWhenTheWorkerAllowsIt() throws Exception {
    stages = new LocalStages(false, 2L << 30, true);
    int port = farmService.getLocalPort();
    var result = stages.run(program()
        .run(exec(banner("127.0.0.1", port, "/host-loopback")).network(Action.Network.HOST))
        .build()).completed();
    assertThat(Files.readString(stages.unpack(result).resolve("host-loopback"))).contains(FARM_SERVICE);
  }

  /** A RUN command: an HTTP GET of the greeting at {@code address}:8080, response and errors into {@code file}. */
  private static String get(String address, String file) {
    return "printf 'GET /greeting.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 5 " + address + " 8080 > " + file + " 2>&1; true";
  }

  /** A RUN command: the first line a TCP service at {@code address}:{@code port} sends, or the error, into {@code file}. */
  private static String banner(String address, int port, String file) {
    return "nc -w 5 " + address + " " + port + " </dev/null > " + file + " 2>&1; true";
  }

  private static String httpGet(String address) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, 8080), 5000);
      s.getOutputStream().write("GET /greeting.txt HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static void awaitListening() throws Exception {
    for (int i = 0; ; i++) {
      try {
        httpGet(INTERNET);
        return;
      } catch (IOException notYet) {
        if (i == 100) {
          throw notYet;
        }
        Thread.sleep(50);
      }
    }
  }

  private static String banner(String address) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, farmService.getLocalPort()), 5000);
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The worker host's first non-loopback IPv4 address other than our veth (e.g. eth0's). */
  /**
   * The IPv4 address of the interface that carries the host's default route (where a farm's
   * services listen for other machines); not a bridge that a container engine may create or remove
   * while the test runs.
   */
  private static String firstHostAddress() throws IOException {
    String defaultInterface = null;
    for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/net/route"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 2 && f[1].equals("00000000")) {
        defaultInterface = f[0];
        break;
      }
    }
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (defaultInterface != null && !nic.getName().equals(defaultInterface)) {
        continue;
      }
      for (InetAddress a : Collections.list(nic.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.getHostAddress().equals(INET_HOST_SIDE)) {
          return a.getHostAddress();
        }
      }
    }
    throw new IOException("the host has no non-loopback IPv4 address on its default route's interface");
  }

  private static void sh(String command) throws IOException {
    HostProcess.run(List.of("sh", "-c", command), null);
  }

  private static void shQuietly(String command) {
    try {
      sh(command);
    } catch (IOException gone) {
      // already removed
    }
  }
}
