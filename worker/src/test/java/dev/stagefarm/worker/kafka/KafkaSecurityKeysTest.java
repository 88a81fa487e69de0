package dev.stagefarm.worker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.KafkaClientProperties;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.junit.jupiter.api.Test;

/** {@link KafkaClientProperties} lists Kafka's client security keys by hand (its module has no Kafka): check them. */
class KafkaSecurityKeysTest {
  private static final ConfigDef KAFKA = clientSecurityDef();

  @Test
  void theAcceptedKeysAreExactlyKafkasClientSaslAndSslKeys() {
    assertThat(KafkaClientProperties.securityKeys()).containsExactlyInAnyOrderElementsOf(KAFKA.names());
  }

  @Test
  void theHiddenKeysAreExactlyThoseKafkaTypesAsPasswords() {
    Map<String, ConfigDef.ConfigKey> keys = KAFKA.configKeys();
    assertThat(KafkaClientProperties.secretKeys()).containsExactlyInAnyOrderElementsOf(keys.values().stream()
        .filter(k -> k.type == ConfigDef.Type.PASSWORD).map(k -> k.name).collect(Collectors.toSet()));
  }

  private static ConfigDef clientSecurityDef() {
    ConfigDef def = new ConfigDef();
    SslConfigs.addClientSslSupport(def);
    SaslConfigs.addClientSaslSupport(def);
    return def;
  }
}
