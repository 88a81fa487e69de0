package dev.stagefarm.coordinator.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.coordinator.WorkerEvent;
import dev.stagefarm.coordinator.wire.EventMessages;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads worker events from {@link Topics#EVENTS} on its own thread and hands them on. */
public final class KafkaEventStream implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaEventStream.class);
  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread thread;
  private volatile boolean running = true;

  public KafkaEventStream(String bootstrapServers, String groupId, Consumer<WorkerEvent> handler) {
    this.consumer = KafkaClients.consumer(bootstrapServers, groupId, "stagefarm-coordinator-events");
    this.thread = Thread.ofPlatform().daemon().name("stagefarm-events").unstarted(() -> loop(handler));
  }

  public KafkaEventStream start() {
    thread.start();
    return this;
  }

  private void loop(Consumer<WorkerEvent> handler) {
    try {
      consumer.subscribe(List.of(Topics.EVENTS));
      while (running) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
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
