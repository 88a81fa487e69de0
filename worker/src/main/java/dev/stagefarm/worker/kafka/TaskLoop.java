package dev.stagefarm.worker.kafka;

import dev.stagefarm.worker.StageRunner;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A worker's claim-execute-report loop: {@code concurrency} {@link TaskSlot}s on the share group,
 * one events producer, and a timer that heartbeats every running stage on the events topic (the
 * coordinator's lease, DESIGN.md §4).
 */
public final class TaskLoop implements AutoCloseable {
  private final List<TaskSlot> slots = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Set<RunningStage> running = ConcurrentHashMap.newKeySet();
  private final EventPublisher publisher;
  private final ScheduledExecutorService heartbeats;
  private final Duration heartbeatInterval;
  private final Duration shutdownGrace;

  public TaskLoop(TaskSlot.Settings settings, int concurrency, Duration heartbeatInterval, StageRunner runner) {
    this.publisher = new EventPublisher(settings.bootstrapServers(), settings.kafkaSecurity(),
        settings.workerId() + "-events", settings.farmKeys());
    this.heartbeatInterval = heartbeatInterval;
    this.shutdownGrace = settings.shutdownGrace();
    this.heartbeats = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name(settings.workerId() + "-heartbeat").factory());
    for (int i = 0; i < concurrency; i++) {
      TaskSlot slot = new TaskSlot("slot" + i, settings, runner, publisher, Clock.systemUTC(), running::add, running::remove);
      slots.add(slot);
      threads.add(Thread.ofPlatform().name(settings.workerId() + "-slot" + i).unstarted(slot));
    }
  }

  public TaskLoop start() {
    long period = heartbeatInterval.toMillis();
    heartbeats.scheduleAtFixedRate(this::heartbeat, period, period, TimeUnit.MILLISECONDS);
    threads.forEach(Thread::start);
    return this;
  }

  /** How many stages run right now. */
  public int runningStages() {
    return running.size();
  }

  private void heartbeat() {
    for (RunningStage stage : running) {
      if (!stage.finished()) {
        publisher.publish(stage.events.heartbeat(stage.currentInstruction()));
      }
    }
  }

  /**
   * Stops claiming work; running stages get the shutdown grace to finish (their results are
   * reported), after which they are cancelled and their records released to other workers.
   */
  @Override
  public void close() {
    slots.forEach(TaskSlot::stop);
    long waitMs = shutdownGrace.toMillis() + 30_000;
    for (Thread t : threads) {
      try {
        t.join(waitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    heartbeats.shutdownNow();
    publisher.close();
  }
}
