package dev.stagefarm.program.inprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.program.FarmKeys;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The in-process share queue on a clock the test moves (no sleeps): locks expire exactly at their
 * duration, renewals push the expiry, the delivery limit archives. The same behaviour against a real
 * broker is in the worker's {@code TaskTransportContractTest}.
 */
class InProcessShareQueueTest {
  static final Duration LOCK = Duration.ofSeconds(30);
  final AtomicLong now = new AtomicLong();
  final InProcessShareQueue queue = new InProcessShareQueue(LOCK, 3, now::get);
  static final List<String> TOPICS = List.of("t");

  @Test
  void aLockExpiresAtItsDurationUnlessRenewed() throws Exception {
    queue.publish("t", record("a"));
    var first = claim("m1");
    advance(LOCK.minusMillis(1));
    assertThat(queue.claim("m2", TOPICS, Duration.ZERO, () -> false)).isEmpty();
    assertThat(queue.acknowledge("m1", "t", first.offset(), InProcessShareQueue.Ack.RENEW)).isTrue();
    advance(LOCK.minusMillis(1));
    assertThat(queue.claim("m2", TOPICS, Duration.ZERO, () -> false)).as("renewed").isEmpty();
    advance(Duration.ofMillis(1));
    var again = claim("m2");
    assertThat(again.offset()).isEqualTo(first.offset());
    assertThat(again.deliveryCount()).isEqualTo(2);
    assertThat(queue.acknowledge("m1", "t", first.offset(), InProcessShareQueue.Ack.ACCEPT))
        .as("the first holder lost it").isFalse();
  }

  @Test
  void thePublishListenerHearsEveryPublishAfterTheRecordIsClaimable() throws Exception {
    List<Integer> pendingWhenTold = new java.util.ArrayList<>();
    queue.whenPublished(() -> pendingWhenTold.add(queue.pending())); // the queue's lock is free: it may read it
    queue.publish("t", record("a"));
    queue.publish("t", record("b"));
    assertThat(pendingWhenTold).containsExactly(1, 2);
    assertThat(claim("m1").record().value()).isEqualTo("a".getBytes());
  }

  @Test
  void releasingAllOfAMembersTasksHandsThemOutAgainAndTheLimitArchives() throws Exception {
    queue.publish("t", record("a"));
    for (int delivery = 1; delivery <= 3; delivery++) {
      assertThat(claim("m" + delivery).deliveryCount()).isEqualTo(delivery);
      queue.releaseAll("m" + delivery);
    }
    assertThat(queue.claim("m4", TOPICS, Duration.ZERO, () -> false)).isEmpty();
    assertThat(queue.archived()).isEqualTo(1);
    assertThat(queue.pending()).isZero();
  }

  @Test
  void tasksGoOutInOffsetOrderAndAcceptedOrRejectedOnesAreGone() throws Exception {
    queue.publish("t", record("a"));
    queue.publish("t", record("b"));
    var a = claim("m1");
    var b = claim("m2");
    assertThat(new String(a.record().value())).isEqualTo("a");
    assertThat(new String(b.record().value())).isEqualTo("b");
    assertThat(queue.acknowledge("m2", "t", a.offset(), InProcessShareQueue.Ack.ACCEPT)).as("not its task").isFalse();
    assertThat(queue.acknowledge("m1", "t", a.offset(), InProcessShareQueue.Ack.ACCEPT)).isTrue();
    assertThat(queue.acknowledge("m2", "t", b.offset(), InProcessShareQueue.Ack.REJECT)).isTrue();
    advance(LOCK.multipliedBy(2));
    assertThat(queue.claim("m3", TOPICS, Duration.ZERO, () -> false)).isEmpty();
    assertThat(queue.pending()).isZero();
  }

  @Test
  void aFullQueueRefusesMoreSayingItsLimit() {
    for (int i = 0; i < InProcessShareQueue.MAX_PENDING; i++) {
      queue.publish("t", record("x"));
    }
    assertThatThrownBy(() -> queue.publish("t", record("y")))
        .isInstanceOf(InProcessShareQueue.QueueFullException.class)
        .hasMessageContaining(Integer.toString(InProcessShareQueue.MAX_PENDING));
  }

  @Test
  void aSignedRecordVerifiesOnlyUnderItsKeyAndPurpose() {
    FarmKeys keys = FarmKeys.generate();
    SignedRecord signed = SignedRecord.sign(keys, FarmKeys.Purpose.TASK, "k", "v".getBytes());
    assertThat(signed.verify(keys, FarmKeys.Purpose.TASK)).isTrue();
    assertThat(signed.verify(keys, FarmKeys.Purpose.EVENT)).isFalse();
    assertThat(signed.verify(FarmKeys.generate(), FarmKeys.Purpose.TASK)).isFalse();
    assertThat(new SignedRecord("k", "other".getBytes(), signed.headers()).verify(keys, FarmKeys.Purpose.TASK)).isFalse();
  }

  private InProcessShareQueue.Delivery claim(String member) throws InterruptedException {
    return queue.claim(member, TOPICS, Duration.ZERO, () -> false).orElseThrow();
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  private static SignedRecord record(String value) {
    return new SignedRecord("k", value.getBytes(), Map.of());
  }
}
