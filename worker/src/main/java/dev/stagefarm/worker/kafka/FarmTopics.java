package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.proto.Topics;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the stagefarm topics and configures the worker share group. Idempotent: run it at every
 * start of a coordinator, worker or all-in-one farm.
 *
 * <p>Why the group config matters: a share group starts at the <em>latest</em> offset by default,
 * so tasks published before the first worker joined would never run; {@code earliest} fixes that.
 * And it reads uncommitted records by default, which would hand workers the tasks of a fenced
 * coordinator's aborted transactions; {@code read_committed} fixes that.
 */
public final class FarmTopics {
  /** How long control messages stay on {@link Topics#CONTROL}; a starting worker reads back this far. */
  public static final java.time.Duration CONTROL_RETENTION = java.time.Duration.ofDays(1);

  /**
   * @param taskPartitions partitions of {@link Topics#TASKS}. One is right for stagefarm's task
   *     rate: every share consumer is assigned that one partition, so any idle worker can take any
   *     task. With more partitions than consumers the assignor splits partitions between members,
   *     and a task can wait in a partition whose only consumers are busy.
   * @param eventPartitions partitions of {@link Topics#EVENTS} (keyed by build id)
   * @param replicationFactor 1 for a single broker, 3 in production
   * @param recordLockMs the group's record lock ({@code share.record.lock.duration.ms}); 0 keeps the
   *     broker default
   * @param deliveryCountLimit how often a task may be delivered before Kafka gives up on it
   * @param topicConfigs topic configs for every farm topic (e.g. {@code min.insync.replicas}); a topic's
   *     own configs ({@code cleanup.policy} of the compacted ones, the control topic's retention) win
   */
  public record Layout(int taskPartitions, int eventPartitions, short replicationFactor, long recordLockMs,
      int deliveryCountLimit, Map<String, String> topicConfigs) {
    public Layout {
      topicConfigs = Map.copyOf(topicConfigs);
    }

    public Layout(int taskPartitions, int eventPartitions, short replicationFactor, long recordLockMs,
        int deliveryCountLimit) {
      this(taskPartitions, eventPartitions, replicationFactor, recordLockMs, deliveryCountLimit, Map.of());
    }

    public static Layout singleBroker() {
      return new Layout(1, 4, (short) 1, 0, 10);
    }

    public Layout withRecordLockMs(long ms) {
      return new Layout(taskPartitions, eventPartitions, replicationFactor, ms, deliveryCountLimit, topicConfigs);
    }

    public Layout withTopicConfigs(Map<String, String> configs) {
      return new Layout(taskPartitions, eventPartitions, replicationFactor, recordLockMs, deliveryCountLimit, configs);
    }
  }

  /** One farm topic as the cluster has it. */
  public record TopicState(String name, int partitions, int replicationFactor) {}

  private FarmTopics() {}

  /** Creates missing topics and sets the share group config on the cluster at {@code bootstrap}. */
  public static void ensure(String bootstrap, Layout layout) {
    ensure(bootstrap, KafkaClientProperties.none(), layout);
  }

  /**
   * As {@link #ensure(String, Layout)}, connecting with {@code security}. On a cluster with ACLs the
   * principal needs CREATE and DESCRIBE on the topics and ALTER_CONFIGS on the share group
   * ({@link FarmAcls}: the coordinator and admin principals have them, workers do not).
   */
  public static void ensure(String bootstrap, KafkaClientProperties security, Layout layout) {
    try (Admin admin = admin(bootstrap, security)) {
      ensure(admin, layout);
    }
  }

  /** An admin client of the cluster at {@code bootstrap}, connecting with {@code security}. */
  public static Admin admin(String bootstrap, KafkaClientProperties security) {
    Properties props = new Properties();
    props.putAll(security.asMap());
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    return Admin.create(props);
  }

  public static void ensure(Admin admin, Layout layout) {
    createTopics(admin, topics(layout));
    configureShareGroup(admin, layout);
  }

  /** The farm's topics as {@code layout} wants them. */
  public static List<NewTopic> topics(Layout layout) {
    Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    List<NewTopic> topics = new java.util.ArrayList<>();
    // a task topic per platform the farm routes (TaskRouting): stagefarm.tasks is linux/amd64's
    for (String tasks : TaskRouting.topics()) {
      topics.add(topic(tasks, layout.taskPartitions(), layout, Map.of()));
    }
    topics.addAll(List.of(
        topic(Topics.EVENTS, layout.eventPartitions(), layout, Map.of()),
        topic(Topics.BUILDS, 1, layout, compacted),
        // coordinator leadership: one partition, whose owner in the coordinators' group leads
        topic(Topics.LEADER, 1, layout, compacted),
        // one partition: a worker reads all of it; a day of messages covers any live build
        topic(Topics.CONTROL, 1, layout,
            Map.of(TopicConfig.RETENTION_MS_CONFIG, Long.toString(CONTROL_RETENTION.toMillis())))));
    return List.copyOf(topics);
  }

  private static NewTopic topic(String name, int partitions, Layout layout, Map<String, String> own) {
    Map<String, String> configs = new java.util.HashMap<>(layout.topicConfigs());
    configs.putAll(own);
    return new NewTopic(name, partitions, layout.replicationFactor()).configs(configs);
  }

  /**
   * As {@link #ensure(Admin, Layout)}, and sets {@code layout}'s topic configs on topics that already
   * existed too (so running it again converges); returns the topics as the cluster has them.
   */
  public static List<TopicState> ensureAndConfigure(Admin admin, Layout layout) {
    ensure(admin, layout);
    try {
      if (!layout.topicConfigs().isEmpty()) {
        Map<ConfigResource, Collection<AlterConfigOp>> ops = new java.util.LinkedHashMap<>();
        for (NewTopic t : topics(layout)) {
          ops.put(new ConfigResource(ConfigResource.Type.TOPIC, t.name()),
              t.configs().entrySet().stream().map(e -> set(e.getKey(), e.getValue())).toList());
        }
        admin.incrementalAlterConfigs(ops).all().get(30, TimeUnit.SECONDS);
      }
      List<String> names = topics(layout).stream().map(NewTopic::name).toList();
      var described = admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
      return names.stream().map(described::get).map(d -> new TopicState(d.name(), d.partitions().size(),
          d.partitions().getFirst().replicas().size())).toList();
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaSetupException("configuring the stagefarm topics failed: " + rootMessage(e)
          + refusedHint(e, "ALTER_CONFIGS and DESCRIBE on the topics"), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaSetupException("interrupted while configuring the stagefarm topics", e);
    }
  }

  private static void createTopics(Admin admin, Collection<NewTopic> topics) {
    try {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
      if (missing.isEmpty()) {
        return;
      }
      try {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) { // another process raced us: fine
          throw e;
        }
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaSetupException("creating the stagefarm topics failed: " + rootMessage(e)
          + refusedHint(e, "CREATE on the topics"), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaSetupException("interrupted while creating the stagefarm topics", e);
    }
  }

  private static void configureShareGroup(Admin admin, Layout layout) {
    List<AlterConfigOp> ops = new ArrayList<>();
    ops.add(set("share.auto.offset.reset", "earliest"));
    ops.add(set("share.delivery.count.limit", Integer.toString(layout.deliveryCountLimit())));
    // the coordinator publishes tasks in transactions; a task of a transaction that was aborted
    // (its coordinator fenced by a newer one) must never run
    ops.add(set("share.isolation.level", "read_committed"));
    if (layout.recordLockMs() > 0) {
      ops.add(set("share.record.lock.duration.ms", Long.toString(layout.recordLockMs())));
    }
    ConfigResource group = new ConfigResource(ConfigResource.Type.GROUP, Topics.WORKER_SHARE_GROUP);
    try {
      admin.incrementalAlterConfigs(Map.of(group, ops)).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaSetupException(
          "configuring share group " + Topics.WORKER_SHARE_GROUP + " failed: " + rootMessage(e)
              + refusedHint(e, "ALTER_CONFIGS on the group"), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaSetupException("interrupted while configuring the share group", e);
    }
  }

  private static AlterConfigOp set(String key, String value) {
    return new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET);
  }

  /**
   * On a cluster with ACLs only the coordinator and the admin may set the farm up: say so rather
   * than Kafka's bare "Authorization failed."
   */
  private static String refusedHint(Throwable e, String needed) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof AuthorizationException) {
        return " (this principal is not authorized: it needs " + needed + "; on a farm with Kafka ACLs workers run"
            + " with create-topics: false, docs/security.md)";
      }
    }
    return "";
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** The cluster is unreachable or refused to set up topics / group config. */
  public static final class KafkaSetupException extends RuntimeException {
    public KafkaSetupException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
