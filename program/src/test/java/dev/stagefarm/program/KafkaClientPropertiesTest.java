package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientPropertiesTest {
  private static final String JAAS =
      "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"worker\" password=\"s3cr3t\";";

  @Test
  void aPropertiesFileWithSecuritySettingsLoads(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("kafka.properties");
    Files.writeString(file, """
        # the worker's principal
        security.protocol=SASL_SSL
        sasl.mechanism=SCRAM-SHA-512
        sasl.jaas.config=%s
        ssl.truststore.location=/etc/stagefarm/ca.p12
        """.formatted(JAAS.replace("\"", "\\\"")));

    KafkaClientProperties properties = KafkaClientProperties.load(file);

    assertThat(properties.asMap()).containsOnly(
        Map.entry("security.protocol", "SASL_SSL"),
        Map.entry("sasl.mechanism", "SCRAM-SHA-512"),
        Map.entry("sasl.jaas.config", JAAS),
        Map.entry("ssl.truststore.location", "/etc/stagefarm/ca.p12"));
  }

  @Test
  void secretValuesNeverAppearInToString() {
    KafkaClientProperties properties = KafkaClientProperties.of(Map.of(
        "security.protocol", "SASL_PLAINTEXT", "sasl.jaas.config", JAAS, "ssl.keystore.password", "hunter2"));

    assertThat(properties.toString())
        .contains("security.protocol=SASL_PLAINTEXT", "sasl.jaas.config=[hidden]", "ssl.keystore.password=[hidden]")
        .doesNotContain("s3cr3t", "hunter2");
  }

  @Test
  void aKeyThatIsNotASecuritySettingIsAnErrorNamingIt() {
    assertThatThrownBy(() -> KafkaClientProperties.of(Map.of("acks", "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'acks' is not a Kafka client security setting");
    assertThatThrownBy(() -> KafkaClientProperties.of(Map.of("bootstrap.servers", "evil:9092")))
        .hasMessageContaining("'bootstrap.servers'");
  }

  @Test
  void aMisspelledSecurityKeyIsAnErrorNamingIt(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("kafka.properties");
    Files.writeString(file, "security.protocol=SSL\nssl.truststore.locaton=/etc/ca.p12\n");

    assertThatThrownBy(() -> KafkaClientProperties.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("'ssl.truststore.locaton' is not a Kafka client setting");
  }

  @Test
  void anUnknownSecurityProtocolIsAnError() {
    assertThatThrownBy(() -> KafkaClientProperties.of(Map.of("security.protocol", "SASL_TLS")))
        .hasMessageContaining("security.protocol must be one of")
        .hasMessageContaining("'SASL_TLS'");
  }

  @Test
  void noSettingsIsNone() {
    assertThat(KafkaClientProperties.of(Map.of())).isSameAs(KafkaClientProperties.none());
    assertThat(KafkaClientProperties.none().isEmpty()).isTrue();
  }
}
