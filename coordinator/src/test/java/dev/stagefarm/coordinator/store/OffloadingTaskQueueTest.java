package dev.stagefarm.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.coordinator.port.InMemoryTaskQueue;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.ProgramCodec;
import dev.stagefarm.program.StageProgram;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OffloadingTaskQueueTest {
  final InMemoryTaskQueue published = new InMemoryTaskQueue();
  final InMemoryContentStore content = new InMemoryContentStore();

  static final StageProgram PROGRAM = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(),
      List.of(), Platform.LINUX_AMD64, new CacheKey("0".repeat(64)), Optional.empty(), "build");

  static StageJob job() {
    return new StageJob("b1", "0-build", "build", 1, true, new ProgramRef.Inline(PROGRAM),
        new StageResult(List.of(), new byte[0], "scratch"), Map.of());
  }

  @Test
  void aProgramWithinTheLimitTravelsInTheTask() {
    new OffloadingTaskQueue(published, content, 1 << 20).publish(job());

    assertThat(published.published()).containsExactly(job());
  }

  @Test
  void aProgramOverTheLimitIsStoredAndTheTaskCarriesItsDigest() throws Exception {
    new OffloadingTaskQueue(published, content, 8).publish(job());

    StageJob sent = published.published().getFirst();
    assertThat(sent.program()).isInstanceOf(ProgramRef.Stored.class);
    assertThat(sent.withProgram(job().program())).isEqualTo(job()); // nothing else changed
    byte[] stored = content.read(Namespace.PROGRAMS, ((ProgramRef.Stored) sent.program()).digest());
    assertThat(ProgramCodec.fromProto(dev.stagefarm.proto.v1.StageProgram.parseFrom(stored))).isEqualTo(PROGRAM);
  }
}
