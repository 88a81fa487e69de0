package dev.stagefarm.coordinator.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.port.WriteFailure;
import dev.stagefarm.proto.Topics;
import java.time.Duration;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Which Kafka errors make the coordinator stop writing (fencing) and which only fail one write
 * (Kafka's MockProducer stands for the broker: a real one cannot be made to refuse a sequence on
 * demand). An OutOfOrderSequenceException is abortable for a transactional producer, not fencing:
 * bench/README.md, "Session 11 (issue 12): dispatch".
 */
class FencedProducerErrorsTest {
  private final MockProducer<String, byte[]> kafka =
      new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  private final FencedProducer producer = new FencedProducer(kafka, "farm-test");

  private static ProducerRecord<String, byte[]> record(String value) {
    return new ProducerRecord<>(Topics.BUILDS, "b1", value.getBytes());
  }

  @Test
  void aRefusedSequenceAbortsTheTransactionAndTheNextWriteGoesThrough() {
    producer.fenceOthers(Duration.ofSeconds(5));
    kafka.commitTransactionException = new OutOfOrderSequenceException("Invalid sequence number for producer 0 at"
        + " offset 29068 in partition stagefarm.builds-0: 13 (incoming seq. number). Expected sequence 0 for"
        + " transactions v2 idempotent producer with no existing state.");

    assertThatThrownBy(() -> producer.send(record("first")))
        .isInstanceOfSatisfying(WriteFailure.class, f -> assertThat(f.kind()).isEqualTo(WriteFailure.Kind.RETRIABLE))
        .hasMessageContaining("sequence number").hasMessageContaining("retried");
    assertThat(kafka.transactionAborted()).isTrue();

    kafka.commitTransactionException = null;
    producer.send(record("again"));
    assertThat(kafka.transactionCommitted()).isTrue();
    assertThat(kafka.history()).extracting(r -> new String(r.value())).containsExactly("again");
  }

  @Test
  void aNewerCoordinatorsEpochFencesThisOneForGood() {
    producer.fenceOthers(Duration.ofSeconds(5));
    kafka.commitTransactionException = new ProducerFencedException("There is a newer producer with the same"
        + " transactionalId");

    assertThatThrownBy(() -> producer.send(record("first")))
        .isInstanceOfSatisfying(WriteFailure.class, f -> assertThat(f.kind()).isEqualTo(WriteFailure.Kind.FENCED));
    kafka.commitTransactionException = null;
    assertThatThrownBy(() -> producer.send(record("again")))
        .isInstanceOfSatisfying(WriteFailure.class, f -> assertThat(f.kind()).isEqualTo(WriteFailure.Kind.FENCED));
  }
}
