package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.kafka.FencedProducer;
import dev.stagefarm.coordinator.kafka.KafkaBuildJournal;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.coordinator.port.InMemoryTaskQueue;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildRecord;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The build journal on a real broker (one of its own: replay reads the whole builds topic, and no
 * other test's builds belong in it): a build far wider than one Kafka record could hold is
 * resumed by the coordinator that fences the one running it, with its finished stages' results,
 * its queued stage and its held-back stages; and a record of the format before per-stage records
 * is read by the new one.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES) // bounds a hang only
class WideBuildTakeOverTest {
  static final int LEAVES = 5_000;
  static EmbeddedKafka kafka;
  static String bootstrap;

  final List<BuildCoordinator> coordinators = new ArrayList<>();
  final List<FencedProducer> producers = new ArrayList<>();

  @BeforeAll
  static void broker() throws Exception {
    kafka = EmbeddedKafka.start(Files.createTempDirectory("wide-take-over-"), 0, EmbeddedKafka.Settings.defaults());
    bootstrap = kafka.bootstrapServers();
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(props)) {
      admin.createTopics(List.of(new NewTopic(Topics.BUILDS, 1, (short) 1)
              .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
          .all().get(60, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @AfterEach
  void close() {
    coordinators.forEach(BuildCoordinator::close);
    producers.forEach(FencedProducer::close);
  }

  static final BuildPlanner WIDE = planner(LEAVES);

  /** {@code leaves} stages FROM scratch, and a final stage copying from each (the target reaches them all). */
  static BuildPlanner planner(int leaves) {
    return (buildId, request) -> {
      StageResult scratch = new StageResult(List.of(), new byte[0], "scratch");
      List<PlannedStage> stages = new ArrayList<>();
      List<ProgramInput> inputs = new ArrayList<>();
      Map<String, String> stageInputs = new HashMap<>();
      for (int i = 0; i < leaves; i++) {
        CacheKey key = new CacheKey(String.format("%064x", i + 1));
        String id = i + "-s" + i;
        stages.add(new PlannedStage(id, "s" + i, i, program("s" + i, List.of(), key), List.of(key),
            Optional.of(scratch), Optional.empty(), Map.of(), Map.of(), Optional.empty()));
        ProgramInput input = new ProgramInput(ProgramInput.stageId(id), key, "s" + i);
        inputs.add(input);
        stageInputs.put(input.id(), id);
      }
      CacheKey last = new CacheKey("f".repeat(64));
      stages.add(new PlannedStage(Integer.toString(leaves), Integer.toString(leaves), leaves,
          program("final", inputs, last), List.of(), Optional.of(scratch), Optional.empty(), stageInputs, Map.of(),
          Optional.empty()));
      return new BuildPlan(buildId, stages, Integer.toString(leaves));
    };
  }

  static StageProgram program(String name, List<ProgramInput> inputs, CacheKey root) {
    return new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), inputs, List.of(), Platform.LINUX_AMD64,
        root, Optional.empty(), name);
  }

  /** A coordinator of the farm {@code farm} that has fenced every earlier one. */
  BuildCoordinator leader(String farm, InMemoryTaskQueue tasks) {
    FencedProducer producer = new FencedProducer(bootstrap, farm);
    producers.add(producer);
    producer.fenceOthers(Duration.ofSeconds(60));
    BuildCoordinator c = new BuildCoordinator(Clock.systemUTC(),
        new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofMinutes(5), 3), Duration.ofSeconds(1))
            .withDurableTimeout(Duration.ofSeconds(60)),
        tasks, new KafkaBuildJournal(bootstrap, producer, new InMemoryContentStore()), WIDE,
        (target, tags, push) -> "sha256:" + "a".repeat(64));
    coordinators.add(c);
    return c;
  }

  @Test
  void aBuildOfThousandsOfStagesIsResumedByTheLeaderThatFencedItsCoordinator() throws Exception {
    String farm = "farm-" + UUID.randomUUID();
    InMemoryTaskQueue oldTasks = new InMemoryTaskQueue();
    BuildCoordinator old = leader(farm, oldTasks);
    String buildId = old.submit(SubmitBuildRequest.newBuilder().setTarget("wide").build()).getBuildId();
    // no worker has reported slots: the farm's unreported capacity releases a few stages, the rest are held back
    for (int done = 0; done < 3; done++) {
      StageJob job = awaitTask(oldTasks, done);
      old.onEvent(BuildCoordinatorTest.completed(job, "built-" + job.stageId()));
    }
    List<String> finished = oldTasks.published().subList(0, 3).stream().map(StageJob::stageId).toList();
    old.flushJournal();
    BuildStatus before = old.status(buildId).orElseThrow();
    assertThat(count(before, StageState.STAGE_DONE)).isEqualTo(3);
    List<String> out = before.getStagesList().stream()
        .filter(s -> s.getState() == StageState.STAGE_QUEUED && s.getAttempt() > 0).map(StageStatus::getStageId).toList();
    long held = held(before);
    assertThat(out).isNotEmpty();
    assertThat(held).isGreaterThan(LEAVES / 2);

    InMemoryTaskQueue newTasks = new InMemoryTaskQueue();
    BuildCoordinator taker = leader(farm, newTasks);
    assertThat(taker.resumeFromJournal()).isEqualTo(1);

    BuildStatus resumed = taker.status(buildId).orElseThrow();
    assertThat(resumed.getState()).isEqualTo(BuildState.RUNNING);
    assertThat(resumed.getStagesCount()).isEqualTo(LEAVES + 1);
    for (String stageId : finished) {
      assertThat(stage(resumed, stageId).getState()).isEqualTo(StageState.STAGE_DONE);
    }
    // the stages that were out go out again with a higher attempt; the held ones stay held
    awaitTask(newTasks, out.size() - 1);
    List<StageJob> again = List.copyOf(newTasks.published().subList(0, out.size()));
    assertThat(again).extracting(StageJob::stageId).containsExactlyInAnyOrderElementsOf(out);
    assertThat(again).allMatch(job -> job.attempt() == 2);
    assertThat(held(taker.status(buildId).orElseThrow())).isEqualTo(held);

    // a completion on the new leader releases a held stage (its first attempt)
    taker.onEvent(BuildCoordinatorTest.completed(again.getFirst(), "built-again"));
    StageJob next = awaitTask(newTasks, out.size());
    assertThat(next.attempt()).isEqualTo(1);
    assertThat(next.stageId()).isNotIn(out).isNotIn(finished);

    // the old coordinator is fenced: its record of a late completion never lands
    StageJob late = oldTasks.published().stream()
        .filter(job -> out.contains(job.stageId()) && !job.stageId().equals(again.getFirst().stageId()))
        .findFirst().orElseThrow();
    old.onEvent(BuildCoordinatorTest.completed(late, "late"));
    Thread.sleep(500);
    taker.flushJournal();
    // and no record on the topic is anywhere near Kafka's 1 MiB limit, whatever the build's width
    List<ConsumerRecord<String, byte[]>> records = readAll();
    assertThat(records.stream().mapToInt(r -> r.value() == null ? 0 : r.value().length).max().orElseThrow())
        .isLessThan(64 << 10);
    assertThat(records.stream().filter(r -> r.key().startsWith(buildId + "/")).map(ConsumerRecord::key).distinct())
        .hasSize(LEAVES + 1);
    ConsumerRecord<String, byte[]> lastOfLate = records.stream()
        .filter(r -> r.key().equals(buildId + "/" + late.stageId())).reduce((a, b) -> b).orElseThrow();
    StageStatus lateRecord = dev.stagefarm.proto.v1.BuildStageRecord.parseFrom(lastOfLate.value()).getStatus();
    assertThat(lateRecord.getState()).isEqualTo(StageState.STAGE_QUEUED);
    assertThat(lateRecord.getAttempt()).isEqualTo(2);
  }

  @Test
  void aRecordOfThePreviousFormatIsResumedAndAnUnreadableOneSkipped() throws Exception {
    String buildId = "old" + UUID.randomUUID().toString().replace("-", "").substring(0, 13);
    SubmitBuildRequest request = SubmitBuildRequest.newBuilder().setTarget("wide")
        .setDockerfile(ByteString.copyFromUtf8("FROM scratch\n")).build();
    BuildStatus.Builder status = BuildStatus.newBuilder().setBuildId(buildId).setState(BuildState.RUNNING)
        .setCreatedMs(System.currentTimeMillis());
    for (int i = 0; i < LEAVES; i++) {
      status.addStages(StageStatus.newBuilder().setStageId(i + "-s" + i).setName("s" + i)
          .setState(i == 0 ? StageState.STAGE_DONE : StageState.STAGE_WAITING).setAttempt(i == 0 ? 1 : 0));
    }
    status.addStages(StageStatus.newBuilder().setStageId(Integer.toString(LEAVES)).setState(StageState.STAGE_WAITING));
    BuildRecord old = BuildRecord.newBuilder().setSchemaVersion(2).setBuildId(buildId).setRequest(request)
        .setStatus(status).putStageResults("0-s0", dev.stagefarm.coordinator.wire.ContentMessages.toProto(
            new StageResult(List.of(), new byte[0], "stage:s0")))
        .build();
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(Topics.BUILDS, buildId, old.toByteArray())).get();
      producer.send(new ProducerRecord<>(Topics.BUILDS, "garbage", new byte[] {(byte) 0xff, 1, 2})).get();
      producer.send(new ProducerRecord<>(Topics.BUILDS, "garbage/0", new byte[] {(byte) 0xff, 1, 2})).get();
    }

    InMemoryTaskQueue tasks = new InMemoryTaskQueue();
    BuildCoordinator taker = leader("farm-" + UUID.randomUUID(), tasks);
    taker.resumeFromJournal();

    BuildStatus resumed = taker.status(buildId).orElseThrow();
    assertThat(resumed.getState()).isEqualTo(BuildState.RUNNING);
    assertThat(stage(resumed, "0-s0").getState()).isEqualTo(StageState.STAGE_DONE);
    StageJob first = awaitTask(tasks, 0);
    assertThat(first.stageId()).isNotEqualTo("0-s0");
    // its next record is in the new format: a header and a record per stage
    taker.flushJournal();
    assertThat(readAll().stream().filter(r -> r.key().startsWith(buildId + "/")).map(ConsumerRecord::key).distinct())
        .hasSize(LEAVES + 1);
  }

  @Test
  void theStagesOfAnAbortedPartialWriteGoOutWithTheBuildsNextWrite() throws Exception {
    FencedProducer producer = new FencedProducer(bootstrap, "farm-" + UUID.randomUUID());
    producers.add(producer);
    producer.fenceOthers(Duration.ofSeconds(60));
    KafkaBuildJournal journal = new KafkaBuildJournal(bootstrap, producer, new InMemoryContentStore());
    String buildId = "part" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    SubmitBuildRequest request = SubmitBuildRequest.newBuilder().setTarget("wide").build();
    BuildStatus running = BuildStatus.newBuilder().setBuildId(buildId).setState(BuildState.RUNNING).build();
    StageStatus a = StageStatus.newBuilder().setStageId("a").setName("a").setState(StageState.STAGE_WAITING).build();
    StageStatus b = a.toBuilder().setStageId("b").setName("b").build();
    StageStatus c = a.toBuilder().setStageId("c").setName("c").build();
    journal.record(new JournalEntry(buildId, request, running.toBuilder().addStages(a).addStages(b).addStages(c)
        .build(), Map.of()));

    // a round that carried a's change is aborted (another write of it was refused)
    StageStatus aDone = a.toBuilder().setState(StageState.STAGE_DONE).setAttempt(1).build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> producer.inTransaction(() -> {
      journal.record(partial(buildId, request, running, Map.of(aDone, 0), 3, Map.of("a", new StageResult(List.of(),
          new byte[0], "built-a"))));
      producer.send(new ProducerRecord<>(Topics.BUILDS, "too-big", new byte[2 << 20]));
    })).isInstanceOf(dev.stagefarm.coordinator.port.WriteFailure.class);
    assertThat(readAll().stream().filter(r -> r.key().equals(buildId + "/a")).count()).isEqualTo(1);

    // the build's next partial entry names c only: a's change goes out with it
    StageStatus cQueued = c.toBuilder().setState(StageState.STAGE_QUEUED).setAttempt(1).build();
    journal.record(partial(buildId, request, running, Map.of(cQueued, 2), 3, Map.of()));
    Map<String, StageStatus> latest = new HashMap<>();
    Map<String, Integer> order = new HashMap<>();
    for (ConsumerRecord<String, byte[]> record : readAll()) {
      if (record.key().startsWith(buildId + "/")) {
        var stage = dev.stagefarm.proto.v1.BuildStageRecord.parseFrom(record.value());
        latest.put(stage.getStatus().getStageId(), stage.getStatus());
        order.put(stage.getStatus().getStageId(), stage.getOrder());
      }
    }
    assertThat(latest.get("a")).isEqualTo(aDone);
    assertThat(latest.get("b")).isEqualTo(b);
    assertThat(latest.get("c")).isEqualTo(cQueued);
    assertThat(order).containsEntry("a", 0).containsEntry("b", 1).containsEntry("c", 2);
    // and the replayed build is the merge: its three stages in plan order, a's result with it
    JournalEntry replayed = journal.replay().stream().filter(e -> e.buildId().equals(buildId)).findFirst()
        .orElseThrow();
    assertThat(replayed.status().getStagesList()).containsExactly(aDone, b, cQueued);
    assertThat(replayed.stageResults().get("a").origin()).isEqualTo("built-a");
  }

  static JournalEntry partial(String buildId, SubmitBuildRequest request, BuildStatus status,
      Map<StageStatus, Integer> stages, int stageCount, Map<String, StageResult> results) {
    Map<String, Integer> order = new HashMap<>();
    BuildStatus.Builder withStages = status.toBuilder();
    stages.forEach((stage, position) -> {
      withStages.addStages(stage);
      order.put(stage.getStageId(), position);
    });
    return new JournalEntry(buildId, request, withStages.build(), results, Map.of(), 0,
        new JournalEntry.StageChanges(stageCount, order));
  }

  static StageJob awaitTask(InMemoryTaskQueue tasks, int index) throws InterruptedException {
    for (int i = 0; i < 6000 && tasks.published().size() <= index; i++) {
      Thread.sleep(10);
    }
    assertThat(tasks.published()).hasSizeGreaterThan(index);
    return tasks.published().get(index);
  }

  static long count(BuildStatus status, StageState state) {
    return status.getStagesList().stream().filter(s -> s.getState() == state).count();
  }

  /** Stages held back for a slot: queued in the coordinator, never handed out (attempt 0). */
  static long held(BuildStatus status) {
    return status.getStagesList().stream()
        .filter(s -> s.getState() == StageState.STAGE_QUEUED && s.getAttempt() == 0).count();
  }

  static StageStatus stage(BuildStatus status, String stageId) {
    return status.getStagesList().stream().filter(s -> s.getStageId().equals(stageId)).findFirst().orElseThrow();
  }

  /** Every committed record of the builds topic. */
  static List<ConsumerRecord<String, byte[]>> readAll() {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition partition = new TopicPartition(Topics.BUILDS, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition)).get(partition);
      while (consumer.position(partition) < end) {
        consumer.poll(Duration.ofMillis(500)).forEach(all::add);
      }
    }
    return all;
  }
}
