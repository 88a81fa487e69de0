package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.util.Collections;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The all-in-one farm (`stagefarm up`, and the farm under these tests) without authentication
 * listens on loopback only: another machine cannot submit, watch or export builds.
 */
class EmbeddedFarmListenerTest {

  @Test
  void theFarmsPortAnswersOnLoopbackAndNotOnTheHostsOwnAddress() throws Exception {
    int port = Integer.parseInt(FarmUnderTest.farm().endpoint().substring("127.0.0.1:".length()));
    Optional<InetAddress> external = nonLoopbackAddress();
    assumeThat(external).as("this host has a non-loopback IPv4 address").isPresent();

    try (Socket loopback = new Socket()) {
      loopback.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
      assertThat(loopback.isConnected()).isTrue();
    }
    assertThatThrownBy(() -> {
      try (Socket outside = new Socket()) {
        outside.connect(new InetSocketAddress(external.get(), port), 5_000);
      }
    }).isInstanceOf(IOException.class);
  }

  static Optional<InetAddress> nonLoopbackAddress() throws IOException {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
          return Optional.of(address);
        }
      }
    }
    return Optional.empty();
  }
}
