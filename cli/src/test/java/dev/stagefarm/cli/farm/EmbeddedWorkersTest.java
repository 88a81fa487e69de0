package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The embedded farm's workers started on demand (the one-shot farm): none before a submit or the first task, a few
 * on the submit, the rest on the first task, each once however many tasks come, all stopped with the farm; started at once, their start failure is the farm's. The builds an
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

  /** Workers numbered {@code first} on: the numbers each start asked for, in order. */
  private final List<Integer> numbers = new ArrayList<>();

  private List<CompletableFuture<AutoCloseable>> start(int first, int count) {
    starts.incrementAndGet();
    List<CompletableFuture<AutoCloseable>> begun = new ArrayList<>();
    for (int i = first; i < first + count; i++) {
      Worker w = new Worker();
      made.add(w);
      numbers.add(i);
      begun.add(CompletableFuture.completedFuture(w));
    }
    return begun;
  }

  @Test
  void noWorkerStartsBeforeTheFirstTaskAndTheFarmStopsWithNoneToStop() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(2, 0, this::start);
    workers.awaitStarted(); // nothing begun: returns at once
    workers.close();
    assertThat(starts).hasValue(0);
    workers.taskPublished(); // after the farm's stop: nothing starts any more
    assertThat(starts).hasValue(0);
  }

  @Test
  void theFirstTaskStartsTheWorkersOnceAndTheyStopWithTheFarm() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(2, 0, this::start);
    workers.taskPublished();
    workers.taskPublished();
    workers.taskPublished();
    assertThat(starts).hasValue(1);

    workers.close();

    assertThat(made).hasSize(2).allSatisfy(w -> assertThat(w.stops).isEqualTo(1));
  }

  @Test
  void aSubmitStartsTheFirstFewOnlyAndTheFirstTaskTheRestEachWorkerOnce() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(5, 2, this::start);
    workers.buildSubmitted();
    workers.buildSubmitted(); // a second build: the few are started already
    assertThat(numbers).containsExactly(1, 2);

    workers.taskPublished();
    workers.taskPublished();
    workers.buildSubmitted();
    assertThat(numbers).containsExactly(1, 2, 3, 4, 5);
    assertThat(starts).hasValue(2);

    workers.close();
    assertThat(made).hasSize(5).allSatisfy(w -> assertThat(w.stops).isEqualTo(1));
  }

  @Test
  void aCachedBuildsSubmitStartsTheFewAndTheyStopWithTheFarm() throws Exception {
    EmbeddedWorkers workers = new EmbeddedWorkers(32, 2, this::start);
    workers.buildSubmitted(); // every stage cached: no task follows

    workers.close();
    workers.taskPublished(); // after the farm's stop: nothing starts any more

    assertThat(numbers).containsExactly(1, 2);
    assertThat(made).allSatisfy(w -> assertThat(w.stops).isEqualTo(1));
  }

  @Test
  void startedAtOnceTheirFailureIsTheFarmsAndTheOnesThatStartedStop() throws Exception {
    Worker started = new Worker();
    EmbeddedWorkers workers = new EmbeddedWorkers(2, 0, (first, count) -> List.of(
        CompletableFuture.completedFuture(started),
        CompletableFuture.failedFuture(new IllegalStateException("no runc on PATH"))));
    workers.startNow();

    assertThatThrownBy(workers::awaitStarted).hasMessageContaining("no runc on PATH");
    workers.close();

    assertThat(started.stops).isEqualTo(1);
  }
}
