package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The embedded farm's workers started on demand (the one-shot farm): none before the first task, one per task up to
 * their number, all stopped with the farm; a failed start fails the builds once; started at once, their start failure
 * is the farm's. The builds an on-demand start failure fails are {@code OneShotEndToEndTest}'s (a real farm without
 * slirp4netns).
 */
class EmbeddedWorkersTest {
  /** The workers started, by number (1 first). */
  private final List<Integer> startedNumbers = new ArrayList<>();
  private final List<Worker> made = new ArrayList<>();

  /** A started worker that counts its stops. */
  private static final class Worker implements AutoCloseable {
    int stops;

    @Override
    public void close() {
      stops++;
    }
  }

  private synchronized CompletableFuture<AutoCloseable> start(int number) {
    startedNumbers.add(number);
    Worker w = new Worker();
    made.add(w);
    return CompletableFuture.completedFuture(w);
  }

  @Test
  void noWorkerStartsBeforeTheFirstTaskAndTheFarmStopsWithNoneToStop() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(3, this::start);
    workers.awaitStarted(); // nothing begun: returns at once
    workers.close();
    assertThat(startedNumbers).isEmpty();
    workers.taskPublished(); // after the farm's stop: nothing starts any more
    assertThat(startedNumbers).isEmpty();
  }

  @Test
  void eachTaskStartsOneWorkerUpToTheirNumberAndTheyStopWithTheFarm() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(3, this::start);
    workers.taskPublished();
    assertThat(startedNumbers).containsExactly(1);
    workers.taskPublished();
    workers.taskPublished();
    workers.taskPublished(); // a fourth task: the three there are take it
    workers.taskPublished();
    assertThat(startedNumbers).containsExactly(1, 2, 3);

    workers.close();

    assertThat(made).hasSize(3).allSatisfy(w -> assertThat(w.stops).isEqualTo(1));
  }

  @Test
  void startNowStartsTheRestAndAwaitStartedWaitsForAll() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(3, this::start);
    workers.taskPublished();
    workers.startNow();
    workers.awaitStarted();
    workers.taskPublished(); // all there: none more
    assertThat(startedNumbers).containsExactly(1, 2, 3);
    workers.close();
    assertThat(made).allSatisfy(w -> assertThat(w.stops).isEqualTo(1));
  }

  @Test
  void aFailedOnDemandStartStartsNoMoreAndTheOnesThatStartedStop() throws Exception {
    Worker first = new Worker();
    List<Integer> asked = new ArrayList<>();
    EmbeddedWorkers workers = new EmbeddedWorkers(3, number -> {
      asked.add(number);
      return number == 1 ? CompletableFuture.completedFuture(first)
          : CompletableFuture.failedFuture(new IllegalStateException("no slirp4netns on PATH"));
    });
    workers.taskPublished();
    workers.taskPublished(); // worker 2 fails: the builds fail (no coordinator here), no third start
    workers.taskPublished();
    assertThat(asked).containsExactly(1, 2);

    workers.close();

    assertThat(first.stops).isEqualTo(1);
  }

  @Test
  void startedAtOnceTheirFailureIsTheFarmsAndTheOnesThatStartedStop() throws Exception {
    Worker started = new Worker();
    EmbeddedWorkers workers = new EmbeddedWorkers(2, number -> number == 1 ? CompletableFuture.completedFuture(started)
        : CompletableFuture.failedFuture(new IllegalStateException("no runc on PATH")));
    workers.startNow();

    assertThatThrownBy(workers::awaitStarted).hasMessageContaining("no runc on PATH");
    workers.close();

    assertThat(started.stops).isEqualTo(1);
  }
}
