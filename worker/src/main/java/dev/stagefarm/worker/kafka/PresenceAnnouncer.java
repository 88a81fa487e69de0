package dev.stagefarm.worker.kafka;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Tells the coordinator every {@link #INTERVAL} that this worker process runs, which platforms
 * it takes tasks for and how many task slots it has: a {@code worker_present} event on the event
 * topic (signed like every event). The coordinator fails a build whose stage has a platform no
 * worker announced, instead of leaving its task queued until the queue lease runs out, and
 * releases no more stages than the live workers' slots plus a margin (fair dispatch).
 */
public final class PresenceAnnouncer implements AutoCloseable {
  /** How often a worker announces itself; the coordinator waits three of these before it concludes. */
  public static final Duration INTERVAL = Duration.ofSeconds(5);

  private final dev.stagefarm.worker.transport.EventSink events;
  private final StageEvent.Builder template;
  private final Clock clock;
  private final int slots;
  private final IntSupplier running;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().daemon().name("stagefarm-presence").factory());

  /** @param running how many of its slots run a stage now (the rest are announced free) */
  public PresenceAnnouncer(dev.stagefarm.worker.transport.EventSink events, String workerId, List<Platform> platforms, int slots,
      IntSupplier running, Clock clock) {
    this.events = events;
    this.slots = slots;
    this.running = running;
    this.clock = clock;
    this.template = StageEvent.newBuilder().setSchemaVersion(1).setWorkerId(workerId)
        .setWorkerPresent(StageEvent.WorkerPresent.newBuilder()
            .addAllPlatforms(platforms.stream().map(Platform::toString).toList())
            .setSlots(slots).setIntervalMs(INTERVAL.toMillis()));
  }

  /** Announces now, then every {@link #INTERVAL}. */
  public PresenceAnnouncer start() {
    timer.scheduleAtFixedRate(this::announce, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void announce() {
    try {
      StageEvent.Builder event = template.clone().setTimestampMs(clock.millis());
      event.getWorkerPresentBuilder().setFree(Math.max(0, slots - running.getAsInt()));
      events.publish(event.build());
    } catch (RuntimeException e) {
      // Kafka down: the next announcement is the retry
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    events.close();
  }
}
