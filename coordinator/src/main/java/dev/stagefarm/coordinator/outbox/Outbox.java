package dev.stagefarm.coordinator.outbox;

import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.port.WriteFailure;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's writes to Kafka (stage tasks, build records), queued in memory and written by
 * one thread of their own, in the order they were queued. The scheduler only queues (under its
 * lock, never waiting), so a slow or unreachable broker delays builds but never freezes the
 * scheduler or a status call.
 *
 * <p>Failures, by {@link WriteFailure.Kind}: a retriable one (broker or store unreachable) is
 * retried with backoff for as long as it takes, the item staying at the head, so nothing queued
 * is lost or reordered; a refused task (e.g. over the broker's record size limit) is reported
 * to the {@link Listener}, which fails its build; fenced (another coordinator took over) stops the
 * outbox for good.
 *
 * <p>Rounds: when the task queue {@linkplain TaskQueue#groupsWrites() groups writes} (Kafka: one
 * transaction), the writer takes everything queued, up to {@link #MAX_GROUP} items, and writes it
 * as one group, so a burst of dispatches costs one commit instead of one per task. A group that
 * fails (other than fenced) is written again item by item, each as before: a refused task then
 * fails exactly the build it belongs to, and the others go out.
 *
 * <p>Build records are the latest state of a build (the topic is compacted): a record queued for
 * a build that already has one waiting replaces it in place, so an outage queues at most one
 * record per build. A record may be queued as a supplier: it is computed when it is written (so
 * a build whose stages change many times between two writes is serialized once per write, not
 * once per change), and reflects the build at least as of when it was queued. Tasks are not
 * merged. The queue has no hard bound: it is bounded by the
 * builds admitted, and the coordinator refuses new builds while {@link #backlogged()} (the bound
 * is applied where a caller can be told, at SubmitBuild).
 */
public final class Outbox implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Outbox.class);
  private static final long WARN_INTERVAL_MS = 10_000;
  /** Most items one group (one Kafka transaction) carries. */
  static final int MAX_GROUP = 500;

  /** What the coordinator must act on. Called on the outbox thread. */
  public interface Listener {
    /** The task can never be published: the build must fail with this message. */
    void refused(StageJob job, String message);

    /** Another coordinator fenced this one: it must stop acting as the active coordinator. */
    void fenced(String message);
  }

  /**
   * @param backlogLimit queued writes above which {@link #backlogged()} says to refuse new builds
   * @param minBackoff first pause after a retriable failure, doubled up to {@code maxBackoff}
   */
  public record Settings(int backlogLimit, Duration minBackoff, Duration maxBackoff) {
    public static final Settings DEFAULT = new Settings(10_000, Duration.ofMillis(100), Duration.ofSeconds(5));
  }

  private sealed interface Item permits TaskItem, RecordItem, ForgetItem {
    String buildId();
  }

  private record TaskItem(StageJob job) implements Item {
    @Override
    public String buildId() {
      return job.buildId();
    }
  }

  /** A tombstone for the build's record (an evicted build): after every record queued before it. */
  private record ForgetItem(String buildId) implements Item {}

  /** The build's latest record not yet taken by the writer, and who waits for it to be durable. */
  private static final class RecordItem implements Item {
    final String buildId;
    Supplier<JournalEntry> entry;
    final List<CompletableFuture<Void>> waiters = new ArrayList<>();

    RecordItem(String buildId, Supplier<JournalEntry> entry) {
      this.buildId = buildId;
      this.entry = entry;
    }

    @Override
    public String buildId() {
      return buildId;
    }
  }

  private final TaskQueue tasks;
  private final BuildJournal journal;
  private final Settings settings;
  private final Listener listener;
  private final Deque<Item> queue = new ArrayDeque<>();
  private final Map<String, RecordItem> waitingRecords = new HashMap<>();
  private final Thread writer;
  private boolean stopped;
  private volatile String lastFailure = "";
  private long lastWarnMs = Long.MIN_VALUE;

  public Outbox(TaskQueue tasks, BuildJournal journal, Settings settings, Listener listener) {
    this.tasks = tasks;
    this.journal = journal;
    this.settings = settings;
    this.listener = listener;
    this.writer = Thread.ofPlatform().daemon().name("stagefarm-outbox").start(this::drain);
  }

  /** Queues the task; never blocks. */
  public void publish(StageJob job) {
    synchronized (queue) {
      if (stopped) {
        return; // fenced or closed: the active coordinator publishes it
      }
      queue.addLast(new TaskItem(job));
      queue.notifyAll();
    }
  }

  /**
   * Queues the build's record (replacing one of the same build still waiting); never blocks. The
   * future completes when this entry, or a later one of the build, is durable.
   */
  public CompletableFuture<Void> record(JournalEntry entry) {
    return record(entry.buildId(), () -> entry);
  }

  /**
   * As {@link #record(JournalEntry)}, with the entry computed by {@code entry} on the writer thread
   * when it is written (holding no lock of the outbox); it must describe build {@code buildId} as
   * it stands then.
   */
  public CompletableFuture<Void> record(String buildId, Supplier<JournalEntry> entry) {
    CompletableFuture<Void> durable = new CompletableFuture<>();
    synchronized (queue) {
      if (stopped) {
        durable.completeExceptionally(new WriteFailure(WriteFailure.Kind.FENCED,
            "this coordinator no longer writes build records (stopped or taken over)", null));
        return durable;
      }
      RecordItem waiting = waitingRecords.get(buildId);
      if (waiting != null) {
        waiting.entry = entry;
      } else {
        waiting = new RecordItem(buildId, entry);
        waitingRecords.put(buildId, waiting);
        queue.addLast(waiting);
        queue.notifyAll();
      }
      waiting.waiters.add(durable);
    }
    return durable;
  }

  /**
   * Queues a tombstone for the build's record; never blocks. A record of the build still waiting is
   * dropped (it would bring the build back after the tombstone).
   */
  public void forget(String buildId) {
    synchronized (queue) {
      if (stopped) {
        return; // the active coordinator evicts it
      }
      RecordItem waiting = waitingRecords.remove(buildId);
      if (waiting != null) {
        queue.remove(waiting);
        waiting.waiters.forEach(w -> w.complete(null));
      }
      queue.addLast(new ForgetItem(buildId));
      queue.notifyAll();
    }
  }

  /** Writes queued and not yet durable. */
  public int queued() {
    synchronized (queue) {
      return queue.size();
    }
  }

  /** Whether so many writes wait that new builds should be refused (Kafka has been away a while). */
  public boolean backlogged() {
    return queued() >= settings.backlogLimit();
  }

  /** The last write failure (empty after a success): what an operator needs to hear. */
  public String lastFailure() {
    return lastFailure;
  }

  private void drain() {
    int most = tasks.groupsWrites() ? MAX_GROUP : 1;
    while (true) {
      List<Item> group = new ArrayList<>();
      synchronized (queue) {
        while (queue.isEmpty() && !stopped) {
          try {
            queue.wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (stopped) {
          return;
        }
        // the items stay queued until written: queued() counts them, and a close fails their waiters
        for (Item item : queue) {
          if (group.size() == most) {
            break;
          }
          group.add(item);
          if (item instanceof RecordItem record) {
            waitingRecords.remove(record.buildId()); // later records of the build queue anew
          }
        }
      }
      if (!write(group)) {
        return;
      }
      synchronized (queue) {
        for (Item item : group) {
          if (queue.peekFirst() == item) {
            queue.removeFirst();
          }
        }
      }
    }
  }

  /** Writes the group (one item: as before), falling back to one write per item; false when the outbox must stop. */
  private boolean write(List<Item> group) {
    if (group.size() > 1) {
      try {
        // encoded and signed over every core first: the writes below then only send (issue 12)
        tasks.prepare(group.stream().<StageJob>mapMulti((item, jobs) -> {
          if (item instanceof TaskItem task) {
            jobs.accept(task.job());
          }
        }).toList());
        tasks.inOneWrite(() -> group.forEach(this::writeOnce));
        for (Item item : group) {
          if (item instanceof RecordItem record) {
            record.waiters.forEach(w -> w.complete(null));
          }
        }
        if (!lastFailure.isEmpty()) {
          log.info("writing to Kafka works again");
          lastFailure = "";
        }
        return true;
      } catch (WriteFailure failure) {
        if (failure.kind() == WriteFailure.Kind.FENCED) {
          log.error("stopping the outbox: {}", failure.getMessage());
          stop(failure);
          listener.fenced(failure.getMessage());
          return false;
        }
        log.info("writing {} items in one transaction failed ({}); writing them one by one", group.size(),
            failure.getMessage());
      } catch (RuntimeException bug) {
        log.warn("writing {} items in one transaction failed; writing them one by one", group.size(), bug);
      }
    }
    for (Item item : group) {
      if (!writeUntilDone(item)) {
        return false;
      }
    }
    return true;
  }

  /** One write of the item, no retry; a record's waiters are told by the caller. */
  private void writeOnce(Item item) {
    switch (item) {
      case TaskItem task -> tasks.publish(task.job());
      case RecordItem record -> journal.record(record.entry.get());
      case ForgetItem forget -> journal.forget(forget.buildId());
    }
  }

  /** Writes one item, retrying retriable failures; false when the outbox must stop. */
  private boolean writeUntilDone(Item item) {
    long backoff = settings.minBackoff().toMillis();
    while (true) {
      try {
        switch (item) {
          case TaskItem task -> tasks.publish(task.job());
          case RecordItem record -> {
            journal.record(record.entry.get());
            record.waiters.forEach(w -> w.complete(null));
          }
          case ForgetItem forget -> journal.forget(forget.buildId());
        }
        if (!lastFailure.isEmpty()) {
          log.info("writing to Kafka works again");
          lastFailure = "";
        }
        return true;
      } catch (WriteFailure failure) {
        switch (failure.kind()) {
          case RETRIABLE -> {
            warn(item, failure);
            if (!pause(backoff)) {
              return false;
            }
            backoff = Math.min(backoff * 2, settings.maxBackoff().toMillis());
          }
          case REFUSED -> {
            refuse(item, failure);
            return true;
          }
          case FENCED -> {
            log.error("stopping the outbox: {}", failure.getMessage());
            stop(failure);
            listener.fenced(failure.getMessage());
            return false;
          }
        }
      } catch (RuntimeException bug) {
        log.error("writing {} of build {} failed", describe(item), item.buildId(), bug);
        refuse(item, new WriteFailure(WriteFailure.Kind.REFUSED, "publishing failed: " + bug, bug));
        return true;
      }
    }
  }

  private void refuse(Item item, WriteFailure failure) {
    switch (item) {
      case TaskItem task -> listener.refused(task.job(), failure.getMessage());
      case RecordItem record -> {
        log.error("the record of build {} cannot be written: {}", record.buildId(), failure.getMessage());
        record.waiters.forEach(w -> w.completeExceptionally(failure));
      }
      case ForgetItem forget ->
          // kept: a restart replays the record and evicts it again (its retention has passed)
          log.error("tombstoning the record of build {} failed: {}", forget.buildId(), failure.getMessage());
    }
  }

  private void warn(Item item, WriteFailure failure) {
    lastFailure = failure.getMessage();
    long now = System.currentTimeMillis();
    if (lastWarnMs == Long.MIN_VALUE || now - lastWarnMs >= WARN_INTERVAL_MS) {
      lastWarnMs = now;
      log.warn("writing {} of build {} failed, retrying ({} write(s) queued): {}",
          describe(item), item.buildId(), queued(), failure.getMessage());
    }
  }

  private static String describe(Item item) {
    return switch (item) {
      case TaskItem task -> "the task of stage " + task.job().stageId() + " attempt " + task.job().attempt();
      case RecordItem record -> "the record";
      case ForgetItem forget -> "the tombstone";
    };
  }

  private boolean pause(long millis) {
    synchronized (queue) {
      if (stopped) {
        return false;
      }
      try {
        queue.wait(millis);
      } catch (InterruptedException e) {
        return false;
      }
      return !stopped;
    }
  }

  /** Stops writing; whoever waits for a record hears why. */
  private void stop(Throwable why) {
    List<RecordItem> abandoned = new ArrayList<>();
    synchronized (queue) {
      stopped = true;
      for (Item item : queue) {
        if (item instanceof RecordItem record) {
          abandoned.add(record);
        }
      }
      queue.clear();
      waitingRecords.clear();
      queue.notifyAll();
    }
    for (RecordItem record : abandoned) {
      record.waiters.forEach(w -> w.completeExceptionally(why));
    }
  }

  /**
   * Stops the writer after at most {@code grace} for what is queued (a clean shutdown leaves
   * nothing behind when Kafka is up); what remains is not written.
   */
  public void close(Duration grace) {
    long deadline = System.nanoTime() + grace.toNanos();
    while (queued() > 0 && System.nanoTime() < deadline && writer.isAlive()) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    stop(new WriteFailure(WriteFailure.Kind.FENCED, "the coordinator is shutting down", null));
    writer.interrupt();
    try {
      writer.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(5));
  }
}
