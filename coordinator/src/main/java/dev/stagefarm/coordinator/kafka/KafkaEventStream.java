package dev.stagefarm.coordinator.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.coordinator.WorkerEvent;
import dev.stagefarm.coordinator.wire.EventMessages;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads worker events from {@link Topics#EVENTS} on its own thread and hands them on (only while
 * this coordinator is the active one; offsets are committed to its group). An event
 * without a valid farm MAC is ignored: anyone who can write to the topic could otherwise complete
 * a running stage with an image of their choosing. Ignored events are counted and logged at WARN,
 * at most once per {@link #WARN_INTERVAL_MS} (a flood must not flood the log too).
 */
public final class KafkaEventStream implements dev.stagefarm.coordinator.port.WorkerEventStream {
  private static final Logger log = LoggerFactory.getLogger(KafkaEventStream.class);
  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread thread;
  static final long WARN_INTERVAL_MS = 10_000;
  private volatile boolean running = true;
  private final FarmKeys keys;
  private final AtomicLong unauthenticated = new AtomicLong();
  private long unauthenticatedAtLastWarn;
  private long lastWarnMs = Long.MIN_VALUE;

  public KafkaEventStream(String bootstrapServers, String groupId, FarmKeys keys, Consumer<WorkerEvent> handler) {
    this(bootstrapServers, KafkaClientProperties.none(), groupId, keys, handler);
  }

  public KafkaEventStream(String bootstrapServers, KafkaClientProperties security, String groupId, FarmKeys keys,
      Consumer<WorkerEvent> handler) {
    this.keys = keys;
    this.consumer = KafkaClients.consumer(bootstrapServers, security, groupId, "stagefarm-coordinator-events");
    this.thread = Thread.ofPlatform().daemon().name("stagefarm-events").unstarted(() -> loop(handler));
  }

  public KafkaEventStream start() {
    thread.start();
    return this;
  }

  private void loop(Consumer<WorkerEvent> handler) {
    try {
      // assigned, not subscribed: only the active coordinator reads events, and it reads every
      // partition at once from the offsets its group committed (a standby taking over does not wait
      // for a rebalance, and a second coordinator cannot take partitions away)
      consumer.assign(consumer.partitionsFor(Topics.EVENTS, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition()))
          .toList());
      while (running) {
        List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>();
        consumer.poll(Duration.ofMillis(200)).forEach(batch::add);
        boolean[] authentic = verify(batch);
        for (int i = 0; i < batch.size(); i++) {
          ConsumerRecord<String, byte[]> record = batch.get(i);
          if (!authentic[i]) {
            ignoreUnauthenticated(record);
            continue;
          }
          Optional<WorkerEvent> event;
          try {
            event = EventMessages.fromProto(StageEvent.parseFrom(record.value()));
          } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            log.warn("skipping an unreadable event at {}-{}@{}", record.topic(), record.partition(), record.offset());
            continue;
          }
          if (event.isEmpty()) {
            continue; // a kind this coordinator does not know
          }
          try {
            handler.accept(event.get());
          } catch (RuntimeException e) {
            log.error("handling event of build {} stage {} failed", event.get().buildId(), event.get().stageId(), e);
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  /**
   * Each record's MAC checked, on every core (an Ed25519 check is most of an event's cost: session 8
   * of issue 12's profile); the loop then hands the events on in order.
   */
  private boolean[] verify(List<ConsumerRecord<String, byte[]>> batch) {
    boolean[] authentic = new boolean[batch.size()];
    try {
      CoreSlices.forEach(batch.size(), i -> authentic[i] = FarmMacs.verify(keys, FarmKeys.Purpose.EVENT, batch.get(i)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WakeupException();
    }
    return authentic;
  }

  /** How many events were ignored for a missing or invalid farm MAC since this stream started. */
  @Override
  public long unauthenticatedEvents() {
    return unauthenticated.get();
  }

  private void ignoreUnauthenticated(ConsumerRecord<String, byte[]> record) {
    long count = unauthenticated.incrementAndGet();
    long now = System.currentTimeMillis();
    if (lastWarnMs == Long.MIN_VALUE || now - lastWarnMs >= WARN_INTERVAL_MS) {
      log.warn("ignoring an event without a valid farm MAC at {}-{}@{} (key {}): not from a worker of this farm, or"
              + " the farm keys differ; {} such event(s) since the last warning, {} in all",
          record.topic(), record.partition(), record.offset(), record.key(), count - unauthenticatedAtLastWarn, count);
      lastWarnMs = now;
      unauthenticatedAtLastWarn = count;
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
