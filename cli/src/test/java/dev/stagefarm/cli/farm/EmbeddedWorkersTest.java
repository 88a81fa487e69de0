package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The embedded farm's workers started on demand (the one-shot farm): none before the first task, once however many
 * tasks come, all stopped with the farm; started at once, their start failure is the farm's. The builds an
 * on-demand start failure fails are {@code OneShotEndToEndTest}'s (a real farm without slirp4netns).
 */
class EmbeddedWorkersTest {
  private final AtomicInteger starts = new AtomicInteger();
  private final List<Worker> made = new ArrayList<>();

  /** A started worker that counts its stops. */
  private static final class Worker implements AutoCloseable {
    int stops;

    @Override
    public void close() {
      stops++;
    }
  }

  private List<CompletableFuture<AutoCloseable>> startTwo() {
    starts.incrementAndGet();
    List<CompletableFuture<AutoCloseable>> two = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Worker w = new Worker();
      made.add(w);
      two.add(CompletableFuture.completedFuture(w));
    }
    return two;
  }

  @Test
  void noWorkerStartsBeforeTheFirstTaskAndTheFarmStopsWithNoneToStop() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(this::startTwo);
    workers.awaitStarted(); // nothing begun: returns at once
    workers.close();
    assertThat(starts).hasValue(0);
    workers.taskPublished(); // after the farm's stop: nothing starts any more
    assertThat(starts).hasValue(0);
  }

  @Test
  void theFirstTaskStartsTheWorkersOnceAndTheyStopWithTheFarm() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(this::startTwo);
    workers.taskPublished();
    workers.taskPublished();
    workers.taskPublished();
    assertThat(starts).hasValue(1);

    workers.close();

    assertThat(made).hasSize(2).allSatisfy(w -> assertThat(w.stops).isEqualTo(1));
  }

  @Test
  void startedAtOnceTheirFailureIsTheFarmsAndTheOnesThatStartedStop() throws Exception {
    Worker started = new Worker();
    EmbeddedWorkers workers = new EmbeddedWorkers(() -> List.of(CompletableFuture.completedFuture(started),
        CompletableFuture.failedFuture(new IllegalStateException("no runc on PATH"))));
    workers.startNow();

    assertThatThrownBy(workers::awaitStarted).hasMessageContaining("no runc on PATH");
    workers.close();

    assertThat(started.stops).isEqualTo(1);
  }
}
