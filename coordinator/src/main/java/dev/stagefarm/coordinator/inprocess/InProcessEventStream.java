package dev.stagefarm.coordinator.inprocess;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.coordinator.WorkerEvent;
import dev.stagefarm.coordinator.port.WorkerEventStream;
import dev.stagefarm.coordinator.wire.EventMessages;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads worker events from the in-process bus on its own thread and hands them to the coordinator,
 * verifying each one's farm MAC as {@code KafkaEventStream} does.
 */
public final class InProcessEventStream implements WorkerEventStream {
  private static final Logger log = LoggerFactory.getLogger(InProcessEventStream.class);
  private final InProcessBus bus;
  private final FarmKeys keys;
  private final Consumer<WorkerEvent> handler;
  private final Thread thread;
  private final AtomicLong unauthenticated = new AtomicLong();
  private volatile boolean running = true;

  public InProcessEventStream(InProcessBus bus, FarmKeys keys, Consumer<WorkerEvent> handler) {
    this.bus = bus;
    this.keys = keys;
    this.handler = handler;
    this.thread = Thread.ofPlatform().daemon().name("stagefarm-events").unstarted(this::loop);
  }

  public InProcessEventStream start() {
    thread.start();
    return this;
  }

  private void loop() {
    while (running) {
      SignedRecord record;
      try {
        record = bus.takeEvent(Duration.ofMillis(200));
      } catch (InterruptedException e) {
        return;
      }
      if (record != null) {
        handle(record);
      }
    }
  }

  private void handle(SignedRecord record) {
    if (!record.verify(keys, FarmKeys.Purpose.EVENT)) {
      long count = unauthenticated.incrementAndGet();
      log.warn("ignoring an event without a valid farm MAC (key {}); {} in all", record.key(), count);
      return;
    }
    Optional<WorkerEvent> event;
    try {
      event = EventMessages.fromProto(StageEvent.parseFrom(record.value()));
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      log.warn("skipping an unreadable event of key {}", record.key());
      return;
    }
    if (event.isEmpty()) {
      return;
    }
    try {
      handler.accept(event.get());
    } catch (RuntimeException e) {
      log.error("handling event of build {} stage {} failed", event.get().buildId(), event.get().stageId(), e);
    }
  }

  @Override
  public long unauthenticatedEvents() {
    return unauthenticated.get();
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
