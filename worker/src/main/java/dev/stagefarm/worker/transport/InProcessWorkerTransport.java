package dev.stagefarm.worker.transport;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.InProcessShareQueue;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's side of an {@link InProcessBus}: a farm whose coordinator and workers share one JVM
 * and no broker (the one-shot farm). Tasks, events and control messages are the records Kafka
 * would carry, signed and verified the same way.
 */
public final class InProcessWorkerTransport implements WorkerTransport {
  private static final Logger log = LoggerFactory.getLogger(InProcessWorkerTransport.class);
  private final InProcessBus bus;
  private final FarmKeys keys;

  /** @param keys signs this worker's events (the coordinator verifies them) */
  public InProcessWorkerTransport(InProcessBus bus, FarmKeys keys) {
    this.bus = bus;
    this.keys = keys;
  }

  @Override
  public TaskChannel taskChannel(String clientId) {
    return new Channel(bus.tasks(), clientId);
  }

  @Override
  public EventSink eventSink(String clientId) {
    return new Sink();
  }

  @Override
  public ControlFeed controlFeed(String clientId, Duration lookback, Consumer<ControlFeed.Message> onMessage) {
    return new Feed(lookback, onMessage);
  }

  /**
   * A share-group member on the in-process queue. Unlike Kafka's client it wakes at once when a task
   * is published, and settles acknowledgements as they are made.
   */
  private static final class Channel implements TaskChannel {
    private static final java.util.concurrent.atomic.AtomicLong CHANNELS = new java.util.concurrent.atomic.AtomicLong();
    private final InProcessShareQueue queue;
    /** Unique per channel: a closed slot's successor must not settle its predecessor's record. */
    private final String member;
    private volatile boolean woken;
    private List<String> topics = List.of();
    private TaskDelivery held;
    /** The held task was renewed: the next poll hands it back, as Kafka's consumer does. */
    private boolean returnHeld;
    private final List<AckFailure> failures = new ArrayList<>();
    private Consumer<AckFailure> failureListener = f -> {};

    Channel(InProcessShareQueue queue, String clientId) {
      this.queue = queue;
      this.member = clientId + "#" + CHANNELS.incrementAndGet();
    }

    @Override
    public void subscribe(List<String> topicNames) {
      topics = List.copyOf(topicNames);
    }

    @Override
    public void unsubscribe() {
      topics = List.of();
      giveBack();
    }

    @Override
    public List<TaskDelivery> poll(Duration timeout) {
      reportFailures();
      if (woken) {
        woken = false;
        throw new Woken();
      }
      if (held != null) {
        if (returnHeld) {
          returnHeld = false;
          return List.of(held);
        }
        sleepUnlessWoken(timeout); // holding an unrenewed task: nothing new (record_limit)
        return List.of();
      }
      if (topics.isEmpty()) {
        sleepUnlessWoken(timeout);
        return List.of();
      }
      Optional<InProcessShareQueue.Delivery> claimed;
      try {
        claimed = queue.claim(member, topics, timeout, () -> woken);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Woken();
      }
      if (claimed.isEmpty()) {
        if (woken) {
          woken = false;
          throw new Woken();
        }
        return List.of();
      }
      InProcessShareQueue.Delivery d = claimed.get();
      held = new TaskDelivery(d.topic(), 0, d.offset(), d.deliveryCount(), d.record().value(), d.record()::header, d);
      return List.of(held);
    }

    private void sleepUnlessWoken(Duration timeout) {
      try {
        // the queue's wait wakes on wake(); claim nothing by asking for no topics
        queue.claim(member, List.of(), timeout, () -> woken);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (woken) {
        woken = false;
        throw new Woken();
      }
    }

    @Override
    public void acknowledge(TaskDelivery delivery, Ack ack) {
      boolean ok = queue.acknowledge(member, delivery.topic(), delivery.offset(), toQueue(ack));
      boolean isHeld = held != null && held.sameRecord(delivery);
      if (!ok) {
        failures.add(new AckFailure(delivery.topic(), delivery.partition(), Set.of(delivery.offset()),
            new IllegalStateException("the record's lock was lost: it went back to the queue")));
      }
      if (isHeld) {
        if (ack == Ack.RENEW && ok) {
          returnHeld = true;
        } else {
          held = null;
          returnHeld = false;
        }
      }
    }

    private static InProcessShareQueue.Ack toQueue(Ack ack) {
      return switch (ack) {
        case ACCEPT -> InProcessShareQueue.Ack.ACCEPT;
        case RELEASE -> InProcessShareQueue.Ack.RELEASE;
        case REJECT -> InProcessShareQueue.Ack.REJECT;
        case RENEW -> InProcessShareQueue.Ack.RENEW;
      };
    }

    @Override
    public void commit(Duration timeout) {
      reportFailures(); // acknowledgements were settled as they were made
    }

    private void reportFailures() {
      if (failures.isEmpty()) {
        return;
      }
      List<AckFailure> now = List.copyOf(failures);
      failures.clear();
      now.forEach(failureListener);
    }

    @Override
    public void wakeup() {
      woken = true;
      queue.wake();
    }

    @Override
    public Optional<Duration> lockDuration() {
      return Optional.of(queue.lockDuration());
    }

    @Override
    public void onAcknowledgeFailure(Consumer<AckFailure> listener) {
      failureListener = listener;
    }

    private void giveBack() {
      queue.releaseAll(member);
      held = null;
      returnHeld = false;
    }

    @Override
    public void close() {
      topics = List.of();
      giveBack();
    }
  }

  private final class Sink implements EventSink {
    @Override
    public void publish(StageEvent event) {
      if (!bus.offerEvent(sign(event))) {
        log.warn("dropping a {} event of build {} stage {}: the coordinator is {} events behind", event.getKindCase(),
            event.getBuildId(), event.getStageId(), InProcessBus.MAX_EVENTS);
      }
    }

    @Override
    public void publishDurably(StageEvent event, Duration timeout) {
      try {
        if (!bus.putEvent(sign(event), timeout)) {
          throw new PublishFailed("publishing the " + event.getKindCase() + " event of build " + event.getBuildId()
              + " stage " + event.getStageId() + " failed: the coordinator took no event for " + timeout, null);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PublishFailed("interrupted while publishing an event", e);
      }
    }

    private SignedRecord sign(StageEvent event) {
      return SignedRecord.sign(keys, FarmKeys.Purpose.EVENT, event.getBuildId(), event.toByteArray());
    }

    @Override
    public void close() {}
  }

  private final class Feed implements ControlFeed {
    private final Duration lookback;
    private final Consumer<ControlFeed.Message> onMessage;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private long received;
    private Runnable unsubscribe = () -> {};

    Feed(Duration lookback, Consumer<ControlFeed.Message> onMessage) {
      this.lookback = lookback;
      this.onMessage = onMessage;
    }

    @Override
    public ControlFeed start() {
      unsubscribe = bus.readControl(lookback, record -> {
        long offset;
        synchronized (this) {
          offset = received++;
        }
        onMessage.accept(new Message(offset, record.value(), record::header));
      });
      caughtUp.countDown(); // the kept messages were handed over inside readControl
      return this;
    }

    @Override
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
      return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
      unsubscribe.run();
    }
  }
}
