package dev.stagefarm.worker.kafka;

import dev.stagefarm.worker.transport.Ack;
import dev.stagefarm.worker.transport.TaskChannel;
import dev.stagefarm.worker.transport.TaskDelivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A slot's {@link TaskChannel} on Kafka: a share consumer with explicit acknowledgement that holds
 * one record at a time ({@code share.acquire.mode=record_limit}, {@code max.poll.records=1}; see
 * {@link TaskSlot} for why one consumer per slot).
 */
final class KafkaTaskChannel implements TaskChannel {
  private final KafkaShareConsumer<String, byte[]> consumer;

  KafkaTaskChannel(TaskSlot.Settings settings, String clientId) {
    Properties props = new Properties();
    props.putAll(settings.kafkaSecurity().asMap());
    props.put("bootstrap.servers", settings.bootstrapServers());
    props.put("group.id", settings.groupId());
    props.put("client.id", clientId);
    props.put("share.acknowledgement.mode", "explicit");
    props.put("share.acquire.mode", "record_limit");
    props.put("max.poll.records", "1");
    // The broker parks a share fetch that has nothing to hand this member for up to
    // fetch.max.wait.ms (default 500 ms), and acknowledging the slot's finished record does not
    // wake it: a slot that just accepted its record waited that long for the next one. Measured
    // on bench/fanout: ~0.45 s per hand-off at 500 ms; idle slots now re-ask every 50 ms instead.
    // Nor does a record arriving wake it (Kafka 4.4.0, measured in session 6), so a longer wait
    // here would lengthen every hand-off.
    props.put("fetch.max.wait.ms", Long.toString(TaskSlot.FETCH_MAX_WAIT.toMillis()));
    this.consumer = new KafkaShareConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }

  @Override
  public void subscribe(List<String> topics) {
    consumer.subscribe(topics);
  }

  @Override
  public void unsubscribe() {
    consumer.unsubscribe();
  }

  @Override
  public List<TaskDelivery> poll(Duration timeout) {
    List<TaskDelivery> deliveries = new ArrayList<>();
    try {
      for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
        deliveries.add(new TaskDelivery(record.topic(), record.partition(), record.offset(),
            record.deliveryCount().map(Short::intValue).orElse(1), record.value(), name -> header(record, name),
            record));
      }
    } catch (WakeupException e) {
      throw new Woken();
    } catch (RetriableException e) {
      throw new Unavailable(e.toString(), e);
    }
    return deliveries;
  }

  private static byte[] header(ConsumerRecord<String, byte[]> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : header.value();
  }

  @Override
  @SuppressWarnings("unchecked")
  public void acknowledge(TaskDelivery delivery, Ack ack) {
    consumer.acknowledge((ConsumerRecord<String, byte[]>) delivery.handle(), switch (ack) {
      case ACCEPT -> AcknowledgeType.ACCEPT;
      case RELEASE -> AcknowledgeType.RELEASE;
      case REJECT -> AcknowledgeType.REJECT;
      case RENEW -> AcknowledgeType.RENEW;
    });
  }

  @Override
  public void commit(Duration timeout) {
    try {
      consumer.commitSync(timeout);
    } catch (WakeupException e) {
      throw new Woken();
    } catch (RetriableException e) {
      throw new Unavailable(e.toString(), e);
    }
  }

  @Override
  public void wakeup() {
    consumer.wakeup();
  }

  @Override
  public Optional<Duration> lockDuration() {
    return consumer.acquisitionLockTimeoutMs().map(ms -> Duration.ofMillis(ms.longValue()));
  }

  @Override
  public void onAcknowledgeFailure(Consumer<AckFailure> listener) {
    consumer.setAcknowledgementCommitCallback((offsets, error) -> {
      if (error == null) {
        return;
      }
      offsets.forEach((partition, set) -> listener.accept(
          new AckFailure(partition.topic(), partition.partition(), set, error)));
    });
  }

  @Override
  public void close() {
    consumer.close();
  }
}
