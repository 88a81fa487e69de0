package dev.stagefarm.worker.s3;

import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheKeys;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.SignedCacheRecord;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.worker.ProgramBuilder;
import dev.stagefarm.worker.StageHarness;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Through Kafka, S3 and runc: a cache record that a farm component did not write (edited in the
 * bucket, or signed with another key) is a miss, so the op runs again and its real layer is used.
 */
class CacheRecordTrustTest {
  private static StageHarness farm;
  private static final Instant EPOCH = Instant.ofEpochSecond(1_700_000_000); // reproducible layers
  private static ImageState busybox;

  @BeforeAll
  static void start() throws Exception {
    farm = new StageHarness(1);
    busybox = farm.busybox();
  }

  @AfterAll
  static void stop() {
    farm.close();
  }

  @Test
  void aGenuineRecordIsServed() throws Exception {
    StageProgram program = program().rootKey(ProgramBuilder.randomKey()).sourceDateEpoch(EPOCH).run("echo genuine > /a.txt").build();
    Layer made = opLayer(run(program), false);
    assertThat(opLayer(run(program), true)).isEqualTo(made);
  }

  @Test
  void aRecordWhoseLayerWasSwappedInTheBucketIsNotServedAndTheOpRunsAgain() throws Exception {
    StageProgram program = program().rootKey(ProgramBuilder.randomKey()).sourceDateEpoch(EPOCH).run("echo swapped > /a.txt").build();
    Layer made = opLayer(run(program), false);
    SignedCacheRecord genuine = storedRecord(program);
    // point the record at a layer that is in the store (the base's), keeping the writer's MAC
    farm.store.putRecord(keyOf(program), genuine.toBuilder().setPayload(planted(genuine).toByteString()).build()
        .toByteArray());

    assertThat(opLayer(run(program), false)).isEqualTo(made);
  }

  @Test
  void aRecordSignedWithAKeyOutsideTheFarmIsNotServed() throws Exception {
    StageProgram program = program().rootKey(ProgramBuilder.randomKey()).sourceDateEpoch(EPOCH).run("echo foreign > /a.txt").build();
    Layer made = opLayer(run(program), false);
    CacheRecord edited = planted(storedRecord(program));
    FarmKeys.Seal seal = FarmKeys.generate().seal(FarmKeys.Purpose.CACHE_RECORD, edited.toByteArray());
    farm.store.putRecord(keyOf(program), SignedCacheRecord.newBuilder().setPayload(edited.toByteString())
        .setKeyId(seal.keyId()).setMac(ByteString.copyFrom(seal.mac())).build().toByteArray());

    assertThat(opLayer(run(program), false)).isEqualTo(made);
  }

  private static String keyOf(StageProgram program) {
    CacheKey key = CacheKeys.chain(program).get(0);
    return key.hex();
  }

  private static SignedCacheRecord storedRecord(StageProgram program) throws Exception {
    return SignedCacheRecord.parseFrom(farm.store.getRecord(keyOf(program)).orElseThrow());
  }

  /** The record's payload pointing at a layer of the attacker's choice that is in the store (the base's). */
  private static CacheRecord planted(SignedCacheRecord genuine) throws Exception {
    return CacheRecord.parseFrom(genuine.getPayload()).toBuilder().setLayer(busybox.getLayers(0)).build();
  }

  private static String run(StageProgram program) {
    var task = farm.task(program, busybox).setReuseCachedInstructions(true).build();
    StageEvent outcome = farm.run(task);
    assertThat(outcome.hasCompleted()).as("outcome %s", outcome).isTrue();
    return task.getBuildId();
  }

  /** The layer op 0 of the build reported, checking whether it came from the cache. */
  private static Layer opLayer(String buildId, boolean cached) {
    farm.drainEvents(Duration.ofMillis(300));
    StageEvent.InstructionDone done = farm.events(buildId).stream()
        .filter(StageEvent::hasInstructionDone).map(StageEvent::getInstructionDone)
        .filter(d -> d.getInstructionIndex() == 0).findFirst().orElseThrow();
    assertThat(done.getCached()).as("op 0 cached").isEqualTo(cached);
    assertThat(done.hasLayer()).isTrue();
    return done.getLayer();
  }

}
