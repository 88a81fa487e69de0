package dev.stagefarm.testkit;

import dev.stagefarm.embedded.EmbeddedKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One real Kafka broker (KRaft, in-process) per test JVM, started on first use and stopped when the
 * JVM exits. Share-group timings are short ({@link EmbeddedKafka.Settings#forTests()}), so a lost
 * consumer's records come back within seconds.
 *
 * <p>Tests share the broker: give each test its own topics or group ids when it must not see
 * another test's records.
 */
public final class KafkaFixture {
  private static EmbeddedKafka broker;

  private KafkaFixture() {}

  /** The bootstrap servers of the shared broker, starting it when needed. */
  public static synchronized String bootstrapServers() {
    if (broker == null) {
      broker = start();
    }
    return broker.bootstrapServers();
  }

  /**
   * A broker of its own with SASL/PLAIN authentication and ACLs on (only {@code authentication}'s
   * super user may do anything without an ACL): for a test class of authorization tests, which
   * starts it once and closes it after its last test. Its data is removed when the JVM exits.
   */
  public static EmbeddedKafka startWithAuthentication(EmbeddedKafka.Authentication authentication) {
    return start(authentication);
  }

  private static EmbeddedKafka start() {
    return start(null);
  }

  private static EmbeddedKafka start(EmbeddedKafka.Authentication authentication) {
    try {
      Path dir = Files.createTempDirectory("stagefarm-kafka-");
      EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0, EmbeddedKafka.Settings.forTests(), authentication);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        kafka.close();
        deleteQuietly(dir);
      }, "stagefarm-kafka-fixture-stop"));
      return kafka;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a data directory for the test Kafka broker", e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
