package dev.stagefarm.coordinator.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExposedPortsTest {
  @Test
  void rangesBecomeOnePortEachAndProtocolsAreLowerCaseWithTcpByDefault() {
    assertThat(ExposedPorts.normalize(List.of("7000-7002/udp", "8080/TCP", "9000")))
        .containsExactly("7000/udp", "7001/udp", "7002/udp", "8080/tcp", "9000/tcp");
  }

  @Test
  void hostPartsAreAcceptedAndDropped() {
    assertThat(ExposedPorts.normalize(List.of("0.0.0.0:1234-1235:3333-3334/tcp", "80:80/sctp")))
        .containsExactly("3333/tcp", "3334/tcp", "80/sctp");
  }

  @Test
  void invalidSpecsAreRejectedWithBuildKitsMessages() {
    assertThatThrownBy(() -> ExposedPorts.normalize(List.of("80/xyz")))
        .hasMessage("invalid port: \"80/xyz\": invalid proto: xyz");
    assertThatThrownBy(() -> ExposedPorts.normalize(List.of("/tcp")))
        .hasMessage("invalid port: \"/tcp\": no port specified");
    assertThatThrownBy(() -> ExposedPorts.normalize(List.of("90-80")))
        .hasMessage("invalid containerPort: 90-80");
    assertThatThrownBy(() -> ExposedPorts.normalize(List.of("70000")))
        .hasMessage("invalid containerPort: 70000");
  }
}
