package dev.stagefarm.coordinator;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistrySettings;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.testkit.S3Fixture;
import io.grpc.inprocess.InProcessServerBuilder;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
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
 * A measurement, not a test (bench/README.md, "Coordinator throughput"; run by {@code bench/dispatch.sh}):
 * a real coordinator ({@link CoordinatorNode}: leader election, fenced transactional producer, outbox,
 * journal, event stream) on a real Kafka broker and real S3 (the testkit's in-JVM ones), one or more
 * builds of no-op stages, and synthetic workers: share consumers of the worker group that take each
 * task and at once publish its {@code started} and {@code completed} events, signed with the workers'
 * role key, and announce their slots as real workers do.
 *
 * <p>Each build is {@code FROM scratch} stages with one {@code LABEL} each (not cached: every one
 * goes to a worker), gathered by stages of at most 100 {@code COPY --from} each, and a final stage
 * that copies from the gatherers (so the target reaches every stage). The numbers come from the
 * broker, not from the coordinator: a consumer of the task topic (read_committed, the topic's
 * timestamps are the broker's append times) counts every task record of the builds, and the final
 * status gives when the coordinator processed each stage's completion.
 *
 * <p>Args: {@code LEAVES BUILDS SLOTS} (default 10000 1 1000): leaf stages per build, builds
 * submitted at once (from as many tenants, up to 10), and the task slots the synthetic workers
 * announce (the coordinator keeps at most slots + margin tasks out).
 */
public final class DispatchBench {
  private static final int FAN_IN = 100;
  private static final int CONSUMERS = 4;
  private static final int WORKER_IDS = 8;
  private static final List<String> COORDINATOR_THREADS =
      List.of("stagefarm-", "kafka-producer-network-thread | stagefarm-coordinator", "grpc-");

  private DispatchBench() {}

  public static void main(String[] args) throws Exception {
    int leaves = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int buildCount = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    int slots = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    // a broker of its own with the production share-group timings (30 s record lock and session): the
    // tests' 6 s ones make a loaded machine's consumers churn, and their records go out again
    Path kafkaDir = Files.createTempDirectory("dispatch-bench-kafka-");
    EmbeddedKafka kafka = EmbeddedKafka.start(kafkaDir, 0, EmbeddedKafka.Settings.defaults());
    String bootstrap = kafka.bootstrapServers();
    String run = UUID.randomUUID().toString().substring(0, 8);
    createTopics(bootstrap);
    // role keys (Ed25519, production's) by default; DISPATCH_KEYS=shared: one HMAC key for both parts (what an
    // embedded farm uses), to show what the signatures cost
    boolean shared = "shared".equals(System.getenv("DISPATCH_KEYS"));
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
    waitFor(node::isActive, Duration.ofSeconds(60), "the coordinator to become active");

    SyntheticWorkers workers = new SyntheticWorkers(bootstrap, workerKeys, slots);
    workers.start();
    TaskCounter counter = new TaskCounter(bootstrap);
    Thread.sleep(3000); // presence heard, consumers joined the share group

    double[] loadStart = loadAverage();
    long heapBefore = heapAfterGc();
    Map<Long, Long> cpuBefore = threadCpu();
    long processCpuBefore = processCpuNanos();
    HeapSampler heap = new HeapSampler().start();

    long submitStart = System.currentTimeMillis();
    List<String> buildIds = new ArrayList<>();
    for (int b = 0; b < buildCount; b++) {
      SubmitBuildRequest request = SubmitBuildRequest.newBuilder()
          .setDockerfile(ByteString.copyFrom(dockerfile(leaves, run + "-" + b), StandardCharsets.UTF_8))
          .setTenant("t" + (b % 10))
          .build();
      BuildStatus status = node.coordinator().submit(request, null, "", "t" + (b % 10), Integer.MAX_VALUE);
      if (status.getState() == BuildState.FAILED) {
        throw new IllegalStateException("build " + b + " failed at submission: " + status.getError());
      }
      buildIds.add(status.getBuildId());
    }
    long submitted = System.currentTimeMillis();
    // the dispatch phase alone (planning is the main thread's and S3's): what a stage costs once it is queued
    Map<Long, Long> cpuSubmitted = threadCpu();
    long processCpuSubmitted = processCpuNanos();
    int stagesPerBuild = leaves + gatherers(leaves) + 1;
    int expected = stagesPerBuild * buildCount;
    counter.follow(buildIds, expected);

    Map<String, BuildStatus> finals = new HashMap<>();
    long deadline = System.currentTimeMillis() + TimeUnit.MINUTES.toMillis(30);
    while (finals.size() < buildIds.size()) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("the builds did not finish within 30 min; tasks seen " + counter.records());
      }
      for (String id : buildIds) {
        if (!finals.containsKey(id)) {
          BuildStatus status = node.coordinator().status(id).orElseThrow();
          if (status.getState() == BuildState.SUCCEEDED || status.getState() == BuildState.FAILED
              || status.getState() == BuildState.CANCELLED) {
            finals.put(id, status);
          }
        }
      }
      Thread.sleep(200);
    }
    long finished = System.currentTimeMillis();
    Map<Long, Long> cpuFinished = threadCpu();
    long processCpuFinished = processCpuNanos();
    counter.awaitAll(Duration.ofSeconds(30));
    long processCpu = processCpuNanos() - processCpuBefore;
    Map<Long, Long> cpuAfter = threadCpu();
    heap.stop();
    long heapEnd = heapAfterGc();
    double[] loadEnd = loadAverage();

    // --- report --------------------------------------------------------------------------------
    System.out.printf("BENCH %d build(s) x %d stages (%d leaves, %d gatherers, 1 final), %d slots announced, %s%n",
        buildCount, stagesPerBuild, leaves, gatherers(leaves), slots,
        shared ? "one shared HMAC key (DISPATCH_KEYS=shared)" : "Ed25519 role keys");
    for (BuildStatus s : finals.values()) {
      if (s.getState() != BuildState.SUCCEEDED) {
        System.out.printf("BENCH build %s %s: %s%n", s.getBuildId(), s.getState(), s.getError());
      }
    }
    System.out.printf("BENCH submit (plan + durable record) %.2f s%n", (submitted - submitStart) / 1000.0);
    TaskCounter.Summary tasks = counter.summary();
    System.out.printf("BENCH tasks on the broker: %d records, %d distinct stages of %d, %d later attempts%n",
        tasks.records(), tasks.distinct(), expected, tasks.retries());
    System.out.printf("BENCH dispatch: first -> last task %.2f s: %.0f dispatches/s; gap between tasks p50 %.2f ms"
            + " p99 %.2f ms max %.1f ms%n", tasks.spanMs() / 1000.0, tasks.rate(), tasks.gapP50(), tasks.gapP99(),
        tasks.gapMax());
    List<Long> doneAt = new ArrayList<>();
    for (BuildStatus s : finals.values()) {
      for (StageStatus stage : s.getStagesList()) {
        if (stage.getFinishedMs() > 0) {
          doneAt.add(stage.getFinishedMs());
        }
      }
    }
    doneAt.sort(null);
    if (doneAt.size() > 1) {
      double span = (doneAt.getLast() - doneAt.getFirst()) / 1000.0;
      System.out.printf("BENCH completions processed: %d over %.2f s: %.0f/s%n", doneAt.size(), span,
          (doneAt.size() - 1) / span);
    }
    System.out.printf("BENCH end to end: %d stages, submit returned -> builds finished %.2f s: %.0f stages/s%n",
        expected, (finished - submitted) / 1000.0, expected / ((finished - submitted) / 1000.0));
    System.out.printf("BENCH synthetic workers: %d tasks taken, %d completions published%n",
        workers.taken.get(), workers.completed.get());
    long coordinatorCpu = 0;
    List<String[]> threads = new ArrayList<>();
    for (var info : ManagementFactory.getThreadMXBean().getThreadInfo(
        cpuAfter.keySet().stream().mapToLong(Long::longValue).toArray())) {
      if (info == null) {
        continue;
      }
      long used = cpuAfter.get(info.getThreadId()) - cpuBefore.getOrDefault(info.getThreadId(), 0L);
      if (COORDINATOR_THREADS.stream().anyMatch(info.getThreadName()::startsWith)) {
        coordinatorCpu += used;
      }
      threads.add(new String[] {info.getThreadName(), Long.toString(used)});
    }
    double window = (finished - submitStart) / 1000.0;
    System.out.printf("BENCH coordinator CPU (its threads: %s): %.2f s over %.2f s (%.2f cores); whole JVM %.2f s"
            + " (broker, S3, synthetic workers too)%n", COORDINATOR_THREADS, coordinatorCpu / 1e9, window,
        coordinatorCpu / 1e9 / window, processCpu / 1e9);
    long dispatchCpu = 0;
    for (var info : ManagementFactory.getThreadMXBean().getThreadInfo(
        cpuFinished.keySet().stream().mapToLong(Long::longValue).toArray())) {
      if (info != null && COORDINATOR_THREADS.stream().anyMatch(info.getThreadName()::startsWith)) {
        dispatchCpu += cpuFinished.get(info.getThreadId()) - cpuSubmitted.getOrDefault(info.getThreadId(), 0L);
      }
    }
    double dispatchWindow = (finished - submitted) / 1000.0;
    System.out.printf("BENCH dispatch phase (submit returned -> builds finished, %.2f s): coordinator threads %.2f s"
            + " = %.3f ms per stage; whole JVM %.2f s = %.3f ms per stage (%.2f cores)%n", dispatchWindow,
        dispatchCpu / 1e9, dispatchCpu / 1e6 / expected, (processCpuFinished - processCpuSubmitted) / 1e9,
        (processCpuFinished - processCpuSubmitted) / 1e6 / expected,
        (processCpuFinished - processCpuSubmitted) / 1e9 / dispatchWindow);
    threads.sort((a, b) -> Long.compare(Long.parseLong(b[1]), Long.parseLong(a[1])));
    StringBuilder top = new StringBuilder("BENCH busiest threads:");
    threads.stream().limit(8).forEach(t -> top.append(String.format(" [%s %.2f s]", t[0], Long.parseLong(t[1]) / 1e9)));
    System.out.println(top);
    System.out.printf("BENCH heap (whole JVM) after GC: %d MiB before the builds, %d MiB after (builds still held);"
        + " peak used %d MiB%n", heapBefore >> 20, heapEnd >> 20, heap.peak() >> 20);
    System.out.printf("BENCH load average: %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end%n",
        loadStart[0], loadStart[1], loadStart[2], loadEnd[0], loadEnd[1], loadEnd[2]);
    System.out.flush();
    for (jdk.jfr.Recording recording : jdk.jfr.FlightRecorder.getFlightRecorder().getRecordings()) {
      recording.stop(); // written to its destination (DISPATCH_JFR): halt skips the JVM's dump on exit
    }
    Runtime.getRuntime().halt(0); // the broker's and S3's shutdown hooks are not needed
  }

  static int gatherers(int leaves) {
    return (leaves + FAN_IN - 1) / FAN_IN;
  }

  /** Leaves of one LABEL each, gatherers of up to 100 COPY --from, a final stage copying from each gatherer. */
  static String dockerfile(int leaves, String salt) {
    StringBuilder d = new StringBuilder();
    for (int i = 0; i < leaves; i++) {
      d.append("FROM scratch AS s").append(i).append("\nLABEL n=\"").append(salt).append('-').append(i).append("\"\n");
    }
    int gatherers = gatherers(leaves);
    for (int g = 0; g < gatherers; g++) {
      d.append("FROM scratch AS g").append(g).append('\n');
      for (int i = g * FAN_IN; i < Math.min(leaves, (g + 1) * FAN_IN); i++) {
        d.append("COPY --from=s").append(i).append(" /n /n").append(i).append('\n');
      }
    }
    d.append("FROM scratch\n");
    for (int g = 0; g < gatherers; g++) {
      d.append("COPY --from=g").append(g).append(" /n").append(g * FAN_IN).append(" /g").append(g).append('\n');
    }
    return d.toString();
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
   * docs/protocol.md, "Worker side": verify the task's signature, publish started and completed
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
      props.put("acks", "all");
      props.put("linger.ms", "0");
      this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    void start() {
      Thread.ofPlatform().daemon().name("synthetic-presence").start(this::announce);
      for (int i = 0; i < CONSUMERS; i++) {
        int n = i;
        Thread.ofPlatform().daemon().name("synthetic-worker-" + i).start(() -> consume(n));
      }
    }

    private void announce() {
      while (true) {
        for (int w = 0; w < WORKER_IDS; w++) {
          int own = slots / WORKER_IDS + (w < slots % WORKER_IDS ? 1 : 0);
          StageEvent present = StageEvent.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
              .setWorkerId("synthetic-" + w).setTimestampMs(System.currentTimeMillis())
              .setWorkerPresent(StageEvent.WorkerPresent.newBuilder().addPlatforms("linux/amd64")
                  .setSlots(own).setFree(own).setIntervalMs(1000))
              .build();
          send("", present);
        }
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
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
            StageEvent.Builder event = StageEvent.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
                .setBuildId(task.getBuildId()).setStageId(task.getStageId()).setAttempt(task.getAttempt())
                .setWorkerId("synthetic-" + (n % WORKER_IDS))
                .setDeliveryCount(record.deliveryCount().map(Short::intValue).orElse(1));
            send(task.getBuildId(), event.setTimestampMs(System.currentTimeMillis())
                .setStarted(StageEvent.Started.getDefaultInstance()).build());
            // a no-op stage's result is its base: no layer, the base's config
            send(task.getBuildId(), event.setTimestampMs(System.currentTimeMillis())
                .setCompleted(StageEvent.Completed.newBuilder().setResult(task.getBase())).build());
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

  /** Reads the amd64 task topic (committed records only) and counts the records of the benchmark's builds. */
  static final class TaskCounter {
    private final KafkaConsumer<String, byte[]> consumer;
    private final TopicPartition partition = new TopicPartition(Topics.TASKS, 0);
    private final List<Long> times = new ArrayList<>();
    private final Set<String> distinct = new HashSet<>();
    private final Map<String, Boolean> builds = new ConcurrentHashMap<>();
    private volatile int expected = Integer.MAX_VALUE;
    private int records;
    private int retries;
    private final Thread thread;

    TaskCounter(String bootstrap) {
      Properties props = new Properties();
      props.put("bootstrap.servers", bootstrap);
      props.put("isolation.level", "read_committed");
      props.put("enable.auto.commit", "false");
      props.put("max.poll.records", "2000");
      consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
      consumer.assign(List.of(partition));
      consumer.seekToEnd(List.of(partition));
      consumer.position(partition);
      thread = Thread.ofPlatform().daemon().name("task-counter").start(this::loop);
    }

    void follow(Collection<String> buildIds, int expected) {
      buildIds.forEach(id -> builds.put(id, true));
      this.expected = expected;
    }

    private void loop() {
      while (true) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          String build = record.key().substring(0, Math.max(0, record.key().indexOf('/')));
          synchronized (this) {
            // builds are known once submit returns; tasks may come before that: keep every record, filter later
            times.add(record.timestamp());
            keys.add(record.key());
            try {
              if (StageTask.parseFrom(record.value()).getAttempt() > 1) {
                retryKeys.add(record.key());
              }
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
              throw new IllegalStateException(e);
            }
            buildOf.add(build);
          }
        }
      }
    }

    private final List<String> keys = new ArrayList<>();
    private final List<String> buildOf = new ArrayList<>();
    private final Set<String> retryKeys = new HashSet<>();

    synchronized int records() {
      return keys.size();
    }

    void awaitAll(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (summary().distinct() >= expected) {
          return;
        }
        Thread.sleep(100);
      }
    }

    record Summary(int records, int distinct, int retries, long spanMs, double rate, double gapP50, double gapP99,
        double gapMax) {}

    synchronized Summary summary() {
      List<Long> ours = new ArrayList<>();
      Set<String> stages = new HashSet<>();
      int retried = 0;
      for (int i = 0; i < keys.size(); i++) {
        if (builds.containsKey(buildOf.get(i))) {
          ours.add(times.get(i));
          stages.add(keys.get(i));
          if (retryKeys.contains(keys.get(i))) {
            retried++;
          }
        }
      }
      if (ours.size() < 2) {
        return new Summary(ours.size(), stages.size(), retried, 0, 0, 0, 0, 0);
      }
      long span = ours.getLast() - ours.getFirst();
      long[] gaps = new long[ours.size() - 1];
      for (int i = 1; i < ours.size(); i++) {
        gaps[i - 1] = ours.get(i) - ours.get(i - 1);
      }
      Arrays.sort(gaps);
      return new Summary(ours.size(), stages.size(), retried, span, (ours.size() - 1) * 1000.0 / Math.max(1, span),
          gaps[gaps.length / 2], gaps[(int) (gaps.length * 0.99)], gaps[gaps.length - 1]);
    }
  }

  /** The JVM's heap in use, sampled every 100 ms (its peak). */
  static final class HeapSampler {
    private volatile long peak;
    private volatile boolean running = true;

    HeapSampler start() {
      Thread.ofPlatform().daemon().name("heap-sampler").start(() -> {
        while (running) {
          peak = Math.max(peak, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      return this;
    }

    void stop() {
      running = false;
    }

    long peak() {
      return peak;
    }
  }

  private static long heapAfterGc() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static Map<Long, Long> threadCpu() {
    var mx = ManagementFactory.getThreadMXBean();
    Map<Long, Long> cpu = new HashMap<>();
    for (long id : mx.getAllThreadIds()) {
      long t = mx.getThreadCpuTime(id);
      if (t >= 0) {
        cpu.put(id, t);
      }
    }
    return cpu;
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double[] loadAverage() throws java.io.IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, Duration timeout, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }
}
