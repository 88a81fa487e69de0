package dev.stagefarm.cli;

import dev.stagefarm.program.KafkaClientProperties;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --kafka-properties FILE}: the Kafka clients' SASL/TLS settings of the commands that talk to Kafka. */
public final class KafkaPropertiesFlag {
  @Option(names = "--kafka-properties", defaultValue = "${env:STAGEFARM_KAFKA_PROPERTIES}", paramLabel = "FILE",
      description = "Java properties file with this part's Kafka security settings (security.protocol, sasl.*,"
          + " ssl.*; docs/security.md). Also STAGEFARM_KAFKA_PROPERTIES.")
  Path file;

  /** The settings of the file, none without one; a file that is unreadable or names another key is a {@link UserError}. */
  public KafkaClientProperties load() {
    return load(file);
  }

  /** The settings of the file ({@code kafka-properties}), none for null; a bad file is a {@link UserError}. */
  public static KafkaClientProperties load(Path file) {
    if (file == null) {
      return KafkaClientProperties.none();
    }
    try {
      return KafkaClientProperties.load(file);
    } catch (IOException e) {
      throw new UserError("cannot read --kafka-properties " + file + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }
}
