package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistrySettings;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.testkit.S3Fixture;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Kafka-backed farm of {@link DispatchBench}: a real {@link CoordinatorNode} (leader election,
 * fenced transactional producer, outbox, journal, event stream) on an in-JVM Kafka broker and
 * S3Proxy, synthetic workers that are share consumers of the worker group, and a read_committed
 * consumer of the task topic whose records carry the broker's append time.
 */
final class DispatchKafkaFarm implements DispatchFarm {
  private static final int CONSUMERS = 4;

  private final CoordinatorNode node;
  private final SyntheticWorkers workers;
  private final DispatchTaskLog tasks = new DispatchTaskLog();
  private final boolean shared;

  private String bootstrap;

  private DispatchKafkaFarm(CoordinatorNode node, SyntheticWorkers workers, boolean shared) {
    this.node = node;
    this.workers = workers;
    this.shared = shared;
  }

  /**
   * @param shared one HMAC key for coordinator and workers (what the signatures cost), instead of
   *     Ed25519 role keys
   */
  static DispatchKafkaFarm start(int slots, boolean shared) throws Exception {
    // a broker of its own with the production share-group timings (30 s record lock and session): the
    // tests' 6 s ones make a loaded machine's consumers churn, and their records go out again
    Path kafkaDir = Files.createTempDirectory("dispatch-bench-kafka-");
    EmbeddedKafka kafka = EmbeddedKafka.start(kafkaDir, 0, EmbeddedKafka.Settings.defaults());
    String bootstrap = kafka.bootstrapServers();
    String run = UUID.randomUUID().toString().substring(0, 8);
    createTopics(bootstrap);
    TestRoleKeys roleKeys = shared ? null : TestRoleKeys.generate();
    FarmKeys sharedKey = shared ? FarmKeys.generate() : null;
    FarmKeys coordinatorKeys = shared ? sharedKey : roleKeys.coordinator();
    FarmKeys workerKeys = shared ? sharedKey : roleKeys.worker();
    BlobStore store = S3Fixture.newStore("dispatch-bench");

    CoordinatorNode node = CoordinatorNode.start(
        new CoordinatorNode.Options(bootstrap, "bench-" + run,
            new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(60), 3), Duration.ofSeconds(1)),
            // a 30 s election session: at load average 80 the default 6 s one deposes the only coordinator
            coordinatorKeys, "", Duration.ofSeconds(30)),
        store, new RegistryClient(RegistrySettings.defaults()), new StoreImageExporter(store),
        InProcessServerBuilder.forName("dispatch-bench-" + run));
    DispatchBench.waitFor(node::isActive, Duration.ofSeconds(60), "the coordinator to become active");
    DispatchKafkaFarm farm = new DispatchKafkaFarm(node, new SyntheticWorkers(bootstrap, workerKeys, slots), shared);
    farm.bootstrap = bootstrap;
    farm.workers.start();
    new TaskCounter(bootstrap, farm.tasks);
    return farm;
  }

  @Override
  public String describe() {
    return "Kafka-backed farm (in-JVM broker, S3Proxy, " + (shared ? "one shared HMAC key (DISPATCH_KEYS=shared)"
        : "Ed25519 role keys") + "; " + (DispatchBench.ANNOUNCE_STARTS ? "started + completed per stage"
        : "completed alone per stage") + ")";
  }

  /**
   * The producers the broker knows on the journal's partition (id, epoch, last sequence): with
   * transactions v2 every transaction ends with a new epoch (bench/README.md, "Session 11": the
   * OutOfOrderSequenceException the broker logs near a build's end).
   */
  @Override
  public String writers() {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(props)) {
      var partition = new org.apache.kafka.common.TopicPartition(Topics.BUILDS, 0);
      return Topics.BUILDS + "-0 producers: " + admin.describeProducers(List.of(partition)).partitionResult(partition)
          .get(30, TimeUnit.SECONDS).activeProducers().stream()
          .map(p -> "id " + p.producerId() + " epoch " + p.producerEpoch() + " last sequence " + p.lastSequence())
          .toList();
    } catch (Exception e) {
      return Topics.BUILDS + "-0 producers: not described (" + e + ")";
    }
  }

  @Override
  public CoordinatorNode node() {
    return node;
  }

  @Override
  public DispatchTaskLog tasks() {
    return tasks;
  }

  @Override
  public String taskClock() {
    return "tasks on the broker (append time)";
  }

  @Override
  public long taken() {
    return workers.taken.get();
  }

  @Override
  public long completed() {
    return workers.completed.get();
  }

  private static void createTopics(String bootstrap) throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(props)) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      // the broker's clock on every task: the dispatch rate cannot come from the coordinator's own numbers
      Map<String, String> appendTime = Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime");
      List<NewTopic> topics = new ArrayList<>();
      for (String t : TaskRouting.topics()) {
        topics.add(new NewTopic(t, 1, (short) 1).configs(appendTime));
      }
      topics.add(new NewTopic(Topics.EVENTS, 4, (short) 1));
      topics.add(new NewTopic(Topics.BUILDS, 1, (short) 1).configs(compacted));
      topics.add(new NewTopic(Topics.LEADER, 1, (short) 1).configs(compacted));
      topics.add(new NewTopic(Topics.CONTROL, 1, (short) 1));
      admin.createTopics(topics.stream().filter(t -> !existing.contains(t.name())).toList()).all()
          .get(60, TimeUnit.SECONDS);
      ConfigResource group = new ConfigResource(ConfigResource.Type.GROUP, Topics.WORKER_SHARE_GROUP);
      admin.incrementalAlterConfigs(Map.of(group, List.of(
          new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET),
          new AlterConfigOp(new ConfigEntry("share.isolation.level", "read_committed"), AlterConfigOp.OpType.SET))))
          .all().get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Share consumers of the worker group that complete every task at once (the protocol of
   * docs/protocol.md, "Worker side": verify the task's signature, publish completed (DISPATCH_EVENTS=two:
   * started first)
   * signed with the workers' key, then ACCEPT), and presence announcements of {@code slots} slots.
   */
  static final class SyntheticWorkers {
    final AtomicLong taken = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    private final String bootstrap;
    private final FarmKeys keys;
    private final int slots;
    private final KafkaProducer<String, byte[]> producer;

    SyntheticWorkers(String bootstrap, FarmKeys keys, int slots) {
      this.bootstrap = bootstrap;
      this.keys = keys;
      this.slots = slots;
      Properties props = new Properties();
      props.put("bootstrap.servers", bootstrap);
      props.put("client.id", "synthetic-workers"); // names its network thread: the bench's CPU groups
      props.put("acks", "all");
      props.put("linger.ms", "0");
      this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    void start() {
      Thread.ofPlatform().daemon().name("synthetic-presence").start(() -> DispatchBench.announce(slots,
          present -> send("", present)));
      for (int i = 0; i < CONSUMERS; i++) {
        int n = i;
        Thread.ofPlatform().daemon().name("synthetic-worker-" + i).start(() -> consume(n));
      }
    }

    private void send(String key, StageEvent event) {
      byte[] value = event.toByteArray();
      ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.EVENTS, key, value);
      keys.headers(FarmKeys.Purpose.EVENT, value).forEach(record.headers()::add);
      producer.send(record);
    }

    private void consume(int n) {
      Properties props = new Properties();
      props.put("bootstrap.servers", bootstrap);
      props.put("group.id", Topics.WORKER_SHARE_GROUP);
      props.put("client.id", "synthetic-worker-" + n);
      props.put("share.acknowledgement.mode", "explicit");
      props.put("max.poll.records", "100");
      props.put("fetch.max.wait.ms", "20");
      try (KafkaShareConsumer<String, byte[]> consumer =
          new KafkaShareConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
        consumer.subscribe(List.of(Topics.TASKS));
        while (true) {
          var records = consumer.poll(Duration.ofMillis(100));
          if (records.isEmpty()) {
            continue;
          }
          List<ConsumerRecord<String, byte[]>> done = new ArrayList<>();
          for (ConsumerRecord<String, byte[]> record : records) {
            if (!keys.verifyHeaders(FarmKeys.Purpose.TASK, record.value(), name -> {
              Header h = record.headers().lastHeader(name);
              return h == null ? null : h.value();
            })) {
              rejected.incrementAndGet();
              consumer.acknowledge(record, AcknowledgeType.REJECT);
              continue;
            }
            StageTask task;
            try {
              task = StageTask.parseFrom(record.value());
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
              consumer.acknowledge(record, AcknowledgeType.REJECT);
              continue;
            }
            taken.incrementAndGet();
            for (StageEvent event : DispatchBench.noOpRun(task, "synthetic-" + (n % DispatchBench.WORKER_IDS),
                record.deliveryCount().map(Short::intValue).orElse(1))) {
              send(task.getBuildId(), event);
            }
            completed.incrementAndGet();
            done.add(record);
          }
          producer.flush(); // as a worker: the completion is acknowledged by Kafka before the task is
          done.forEach(r -> consumer.acknowledge(r, AcknowledgeType.ACCEPT));
          consumer.commitSync();
        }
      } catch (org.apache.kafka.common.errors.InterruptException e) {
        // stopping
      }
    }
  }

  /** Reads the amd64 task topic (committed records only) into the task log, with the broker's append times. */
  static final class TaskCounter {
    private final KafkaConsumer<String, byte[]> consumer;
    private final TopicPartition partition = new TopicPartition(Topics.TASKS, 0);
    private final DispatchTaskLog log;

    TaskCounter(String bootstrap, DispatchTaskLog log) {
      this.log = log;
      Properties props = new Properties();
      props.put("bootstrap.servers", bootstrap);
      props.put("client.id", "task-counter");
      props.put("isolation.level", "read_committed");
      props.put("enable.auto.commit", "false");
      props.put("max.poll.records", "2000");
      consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
      consumer.assign(List.of(partition));
      consumer.seekToEnd(List.of(partition));
      consumer.position(partition);
      Thread.ofPlatform().daemon().name("task-counter").start(this::loop);
    }

    private void loop() {
      while (true) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          try {
            log.add(record.timestamp(), record.key(), StageTask.parseFrom(record.value()).getAttempt());
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
          }
        }
      }
    }
  }
}
