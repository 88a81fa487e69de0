package dev.stagefarm.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ListenAddressTest {

  @Test
  void parsesHostAndPortIpv6InBracketsAndAnEmptyHostAsEveryInterface() {
    assertThat(ListenAddress.parse("127.0.0.1:9464")).isEqualTo(new ListenAddress("127.0.0.1", 9464));
    assertThat(ListenAddress.parse("[::1]:9464")).isEqualTo(new ListenAddress("::1", 9464));
    assertThat(ListenAddress.parse(":9464")).isEqualTo(new ListenAddress("0.0.0.0", 9464));
    assertThat(ListenAddress.parse("[::1]:9464")).hasToString("[::1]:9464");
  }

  @Test
  void namesWhatIsWrong() {
    assertThatThrownBy(() -> ListenAddress.parse("9464")).hasMessageContaining("is not HOST:PORT");
    assertThatThrownBy(() -> ListenAddress.parse("host:http")).hasMessageContaining("the port is not a number");
    assertThatThrownBy(() -> ListenAddress.parse("host:70000")).hasMessageContaining("between 0 and 65535");
    assertThatThrownBy(() -> ListenAddress.parse("::1:9464")).hasMessageContaining("IPv6 host in brackets");
  }
}
