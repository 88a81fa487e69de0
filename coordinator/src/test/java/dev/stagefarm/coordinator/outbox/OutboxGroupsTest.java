package dev.stagefarm.coordinator.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.port.WriteFailure;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The outbox's rounds against a task queue whose groups are atomic, as a Kafka transaction is: what
 * was queued while the writer was busy goes out in one group; a group that fails goes out again
 * item by item, so a refused task fails its own build only.
 */
class OutboxGroupsTest {
  static final StageProgram PROGRAM = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(),
      List.of(), Platform.LINUX_AMD64, new CacheKey("0".repeat(64)), Optional.empty(), "build");

  final TransactionalQueue kafka = new TransactionalQueue();
  final List<String> refused = new ArrayList<>();
  Outbox outbox;

  @AfterEach
  void close() {
    if (outbox != null) {
      outbox.close(Duration.ofSeconds(5));
    }
  }

  static StageJob job(String buildId, String stageId) {
    return new StageJob(buildId, stageId, stageId, 1, true, new ProgramRef.Inline(PROGRAM),
        new StageResult(List.of(), new byte[0], "scratch"), Map.of());
  }

  static JournalEntry entry(String buildId) {
    return new JournalEntry(buildId, SubmitBuildRequest.getDefaultInstance(),
        BuildStatus.newBuilder().setBuildId(buildId).setState(BuildState.RUNNING).build(), Map.of());
  }

  Outbox start() {
    outbox = new Outbox(kafka, kafka.journal, Outbox.Settings.DEFAULT, new Outbox.Listener() {
      @Override
      public synchronized void refused(StageJob job, String message) {
        refused.add(job.buildId() + "/" + job.stageId());
      }

      @Override
      public void fenced(String message) {}
    });
    return outbox;
  }

  @Test
  void theTasksAndRecordsQueuedWhileTheWriterWasBusyGoOutInOneTransaction() throws Exception {
    start();
    kafka.holdNextPublish();
    outbox.publish(job("b0", "first"));
    kafka.awaitHeld();
    List<CompletableFuture<Void>> durable = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      durable.add(outbox.record(entry("b" + i)));
      outbox.publish(job("b" + i, "s" + i));
    }
    kafka.release();

    CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    awaitVisible(51);
    assertThat(kafka.committedGroups()).containsExactly(1, 100); // the first alone, then one round
    assertThat(kafka.journal.latest).hasSize(50);
    assertThat(refused).isEmpty();
  }

  @Test
  void aRefusedTaskInAGroupFailsExactlyTheBuildItCarriedAndTheOthersGoOutOnce() throws Exception {
    start();
    kafka.refuse("b2/too-big");
    kafka.holdNextPublish();
    outbox.publish(job("b0", "first"));
    kafka.awaitHeld();
    CompletableFuture<Void> record = outbox.record(entry("b1"));
    outbox.publish(job("b1", "s1"));
    outbox.publish(job("b2", "too-big"));
    outbox.publish(job("b3", "s3"));
    kafka.release();

    record.get(30, TimeUnit.SECONDS);
    awaitVisible(3);
    Thread.sleep(200); // nothing more arrives
    assertThat(refused).containsExactly("b2/too-big");
    assertThat(kafka.visible()).containsExactly("b0/first", "b1/s1", "b3/s3"); // each once, in queue order
    assertThat(kafka.journal.latest).containsKey("b1");
    assertThat(kafka.abortedGroups.get()).isEqualTo(1);
  }

  @Test
  void aRecordQueuedAsASupplierIsComputedWhenWrittenNotPerChange() throws Exception {
    start();
    kafka.holdNextPublish();
    outbox.publish(job("b0", "first"));
    kafka.awaitHeld();
    AtomicInteger computed = new AtomicInteger();
    CompletableFuture<Void> last = null;
    for (int i = 0; i < 1000; i++) {
      last = outbox.record("b1", () -> {
        computed.incrementAndGet();
        return entry("b1");
      });
    }
    kafka.release();

    last.get(30, TimeUnit.SECONDS);
    assertThat(computed.get()).isEqualTo(1);
  }

  private void awaitVisible(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (kafka.visible().size() < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(kafka.visible()).hasSizeGreaterThanOrEqualTo(count);
  }

  /**
   * Tasks and records in atomic groups: a group's writes become visible at its end, none of them if
   * one fails (as Kafka aborts a transaction whose send failed). Tasks named in {@link #refuse} are
   * refused as a broker refuses a record over its size limit.
   */
  static final class TransactionalQueue implements TaskQueue {
    final List<String> refusedKeys = new ArrayList<>();
    final List<String> visible = new ArrayList<>();
    final List<Integer> committed = new ArrayList<>();
    final AtomicInteger abortedGroups = new AtomicInteger();
    final Journal journal = new Journal(this);
    private List<Runnable> open;
    /** The next publish waits on this (set to null when it has); {@link #release} opens it. */
    private volatile CountDownLatch held;
    private volatile CountDownLatch gate;
    private final CountDownLatch holding = new CountDownLatch(1);

    void refuse(String key) {
      refusedKeys.add(key);
    }

    void holdNextPublish() {
      gate = new CountDownLatch(1);
      held = gate;
    }

    void awaitHeld() throws InterruptedException {
      assertThat(holding.await(30, TimeUnit.SECONDS)).isTrue();
    }

    void release() {
      gate.countDown();
    }

    synchronized List<String> visible() {
      return List.copyOf(visible);
    }

    synchronized List<Integer> committedGroups() {
      return List.copyOf(committed);
    }

    @Override
    public boolean groupsWrites() {
      return true;
    }

    @Override
    public void inOneWrite(Runnable writes) {
      synchronized (this) {
        open = new ArrayList<>();
      }
      try {
        writes.run();
      } catch (WriteFailure e) {
        synchronized (this) {
          open = null;
          abortedGroups.incrementAndGet();
        }
        throw e;
      }
      synchronized (this) {
        committed.add(open.size());
        open.forEach(Runnable::run);
        open = null;
      }
    }

    /** A write: at the group's end inside one, at once outside. */
    synchronized void write(Runnable visibleEffect) {
      if (open != null) {
        open.add(visibleEffect);
      } else {
        committed.add(1);
        visibleEffect.run();
      }
    }

    @Override
    public void publish(StageJob job) {
      CountDownLatch wait = held;
      if (wait != null) {
        held = null;
        holding.countDown();
        try {
          wait.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      String key = job.buildId() + "/" + job.stageId();
      if (refusedKeys.contains(key)) {
        throw new WriteFailure(WriteFailure.Kind.REFUSED, "the record of " + key + " is over the size limit", null);
      }
      write(() -> visible.add(key));
    }

    @Override
    public void close() {}
  }

  /** The journal writing through the queue's groups, as the Kafka journal shares its producer. */
  static final class Journal implements BuildJournal {
    final Map<String, JournalEntry> latest = new java.util.concurrent.ConcurrentHashMap<>();
    private final TransactionalQueue queue;

    Journal(TransactionalQueue queue) {
      this.queue = queue;
    }

    @Override
    public void record(JournalEntry entry) {
      queue.write(() -> latest.put(entry.buildId(), entry));
    }

    @Override
    public void forget(String buildId) {
      queue.write(() -> latest.remove(buildId));
    }

    @Override
    public Collection<JournalEntry> replay() {
      return latest.values();
    }

    @Override
    public void close() {}
  }
}
