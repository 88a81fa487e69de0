package dev.stagefarm.coordinator.inprocess;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.WorkerEvent;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ControlMessage;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The coordinator's in-process ports put on the bus (and take from it) the signed records Kafka would carry. */
class InProcessPortsTest {
  static final FarmKeys KEYS = FarmKeys.generate();
  static final StageProgram PROGRAM = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(),
      List.of(), dev.stagefarm.oci.Platform.LINUX_AMD64, new dev.stagefarm.program.CacheKey("0".repeat(64)),
      java.util.Optional.empty(), "build");

  final InProcessBus bus = new InProcessBus(Duration.ofSeconds(30), 10);

  @Test
  void aPublishedTaskIsTheSignedStageTaskOnItsPlatformsTopic() throws Exception {
    new InProcessTaskQueue(bus, KEYS).publish(new StageJob("b1", "0-build", "build", 2, true,
        new ProgramRef.Inline(PROGRAM), new StageResult(List.of(), new byte[0], "scratch"), Map.of()));
    var delivery = bus.tasks().claim("w", List.of(TaskRouting.topic(PROGRAM.platform())), Duration.ofSeconds(5),
        () -> false).orElseThrow();
    assertThat(delivery.topic()).isEqualTo(Topics.TASKS);
    assertThat(delivery.record().verify(KEYS, FarmKeys.Purpose.TASK)).isTrue();
    assertThat(delivery.record().verify(FarmKeys.generate(), FarmKeys.Purpose.TASK)).isFalse();
    StageTask task = StageTask.parseFrom(delivery.record().value());
    assertThat(task.getBuildId()).isEqualTo("b1");
    assertThat(task.getStageId()).isEqualTo("0-build");
    assertThat(task.getAttempt()).isEqualTo(2);
  }

  @Test
  void controlMessagesReachEveryReaderSignedAndLaterReadersGetTheRecentOnes() throws Exception {
    List<SignedRecord> early = new CopyOnWriteArrayList<>();
    bus.readControl(Duration.ofMinutes(1), early::add);
    InProcessWorkerControl control = new InProcessWorkerControl(bus, KEYS, Clock.systemUTC());
    control.buildEnded("b1", "cancelled");
    control.attemptIssued("b1", "0-build", 3);
    List<SignedRecord> late = new ArrayList<>();
    bus.readControl(Duration.ofMinutes(1), late::add);
    assertThat(early).hasSize(2).allSatisfy(r -> assertThat(r.verify(KEYS, FarmKeys.Purpose.CONTROL)).isTrue());
    assertThat(late).hasSize(2);
    assertThat(ControlMessage.parseFrom(early.get(0).value()).getBuildEnded().getReason()).isEqualTo("cancelled");
    assertThat(ControlMessage.parseFrom(early.get(1).value()).getAttemptIssued().getAttempt()).isEqualTo(3);
  }

  @Test
  void theEventStreamHandsOnSignedEventsAndIgnoresUnsignedAndForgedOnes() throws Exception {
    List<WorkerEvent> handled = new CopyOnWriteArrayList<>();
    try (InProcessEventStream stream = new InProcessEventStream(bus, KEYS, handled::add).start()) {
      bus.offerEvent(new SignedRecord("b1", started("forged").toByteArray(),
          FarmKeys.generate().headers(FarmKeys.Purpose.EVENT, started("forged").toByteArray())));
      bus.offerEvent(new SignedRecord("b1", started("unsigned").toByteArray(), Map.of()));
      bus.offerEvent(SignedRecord.sign(KEYS, FarmKeys.Purpose.EVENT, "b1", started("genuine").toByteArray()));
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while ((handled.isEmpty() || stream.unauthenticatedEvents() < 2) && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertThat(handled).extracting(WorkerEvent::stageId).containsExactly("genuine");
      assertThat(stream.unauthenticatedEvents()).isEqualTo(2);
    }
  }

  @Test
  void theInMemoryJournalReplaysNothingForAOneShotFarmResumesNoBuild() {
    InMemoryBuildJournal journal = new InMemoryBuildJournal();
    journal.record(new JournalEntry("b1", SubmitBuildRequest.getDefaultInstance(), BuildStatus.getDefaultInstance(),
        Map.of()));
    journal.forget("b1");
    assertThat(journal.replay()).isEmpty();
  }

  private static StageEvent started(String stage) {
    return StageEvent.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setBuildId("b1").setStageId(stage)
        .setAttempt(1).setWorkerId("w").setTimestampMs(1).setStarted(StageEvent.Started.getDefaultInstance()).build();
  }
}
