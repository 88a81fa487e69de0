package dev.stagefarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageProgram;
import dev.stagefarm.proto.v1.StageTask;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Through Kafka and S3: a task of a newer schema than this worker knows fails at once, for good
 * (not retriable, so the record is accepted and never redelivered), naming the version.
 */
class UnknownTaskVersionTest {
  private static StageHarness farm;

  @BeforeAll
  static void start() throws Exception {
    farm = new StageHarness(1);
  }

  @AfterAll
  static void stop() {
    farm.close();
  }

  @Test
  void aNewerTaskSchemaFailsOnceAndIsNotRetried() {
    StageTask task = StageTask.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION + 1)
        .setBuildId("b-" + UUID.randomUUID())
        .setStageId("0-future")
        .setAttempt(1)
        .setProgram(StageProgram.newBuilder().setVersion(99))
        .build();
    StageEvent outcome = farm.run(task);
    assertThat(outcome.hasFailed()).isTrue();
    assertThat(outcome.getFailed().getRetriable()).isFalse();
    assertThat(outcome.getFailed().getMessage()).contains("schema version " + (Topics.SCHEMA_VERSION + 1));
    farm.drainEvents(Duration.ofSeconds(3));
    assertThat(farm.events(task.getBuildId())).filteredOn(StageEvent::hasStarted).hasSize(1);
  }
}
