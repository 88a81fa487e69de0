package dev.stagefarm.cli;

import dev.stagefarm.worker.kafka.FarmTopics;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stagefarm admin topics}: the farm's Kafka topics, made ahead by the operator (docs/operations.md). */
@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description = "The farm's Kafka topics.",
    subcommands = {TopicsCommand.Create.class})
public final class TopicsCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  /**
   * {@code stagefarm admin topics create}: creates the topics of {@link FarmTopics#topics} with the given
   * partitions, replication factor and configs, and sets the worker share group's config. Idempotent: an
   * existing topic is kept (its configs are set to the given ones), and one whose replication factor is
   * below the requested one is named, since Kafka does not change it here.
   */
  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Create the farm's topics and the worker share group's config (idempotent).")
  public static final class Create implements Callable<Integer> {
    @Option(names = "--kafka", required = true, paramLabel = "HOST:PORT[,…]", description = "Kafka bootstrap servers.")
    String kafka;

    @Option(names = "--replication-factor", defaultValue = "3", paramLabel = "N",
        description = "Replicas of every topic (default: 3; 1 for a single broker).")
    short replicationFactor;

    @Option(names = "--partitions", defaultValue = "12", paramLabel = "N",
        description = "Partitions of stagefarm.events, keyed by build id (default: 12).")
    int eventPartitions;

    @Option(names = "--task-partitions", defaultValue = "1", paramLabel = "N",
        description = "Partitions of stagefarm.tasks (default: 1: every idle worker can take every task;"
            + " docs/operations.md).")
    int taskPartitions;

    @Option(names = "--config", paramLabel = "KEY=VALUE",
        description = "A topic config for every farm topic, e.g. min.insync.replicas=2 (repeatable).")
    Map<String, String> configs = new LinkedHashMap<>();

    @Option(names = "--record-lock", paramLabel = "DURATION",
        description = "The share group's record lock (share.record.lock.duration.ms; default: the broker's).")
    String recordLock;

    @Option(names = "--delivery-count-limit", defaultValue = "10", paramLabel = "N",
        description = "Deliveries of one task before Kafka gives up on it (default: 10).")
    int deliveryCountLimit;

    @Mixin KafkaPropertiesFlag kafkaProperties;

    @Override
    public Integer call() {
      if (replicationFactor < 1 || eventPartitions < 1 || taskPartitions < 1 || deliveryCountLimit < 1) {
        throw new UserError("--replication-factor, --partitions, --task-partitions and --delivery-count-limit must"
            + " be at least 1");
      }
      long lockMs = 0;
      if (recordLock != null) {
        try {
          Duration lock = dev.stagefarm.config.ConfigType.DURATION.parse().apply(recordLock);
          lockMs = lock.toMillis();
        } catch (IllegalArgumentException e) {
          throw new UserError("--record-lock: '" + recordLock + "' is " + e.getMessage());
        }
      }
      FarmTopics.Layout layout = new FarmTopics.Layout(taskPartitions, eventPartitions, replicationFactor, lockMs,
          deliveryCountLimit, configs);
      List<FarmTopics.TopicState> topics;
      try (Admin admin = FarmTopics.admin(kafka, kafkaProperties.load())) {
        topics = FarmTopics.ensureAndConfigure(admin, layout);
      } catch (FarmTopics.KafkaSetupException e) {
        throw new UserError(e.getMessage());
      }
      System.out.println("%-24s %10s %18s".formatted("TOPIC", "PARTITIONS", "REPLICATION FACTOR"));
      boolean underReplicated = false;
      for (FarmTopics.TopicState t : topics) {
        String note = t.replicationFactor() < replicationFactor ? "  (below " + replicationFactor
            + ": an existing topic; raise it with kafka-reassign-partitions)" : "";
        underReplicated |= !note.isEmpty();
        System.out.println("%-24s %10d %18d%s".formatted(t.name(), t.partitions(), t.replicationFactor(), note));
      }
      System.out.flush();
      return underReplicated ? 3 : 0;
    }
  }
}
