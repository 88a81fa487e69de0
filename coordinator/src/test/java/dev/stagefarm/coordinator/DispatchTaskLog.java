package dev.stagefarm.coordinator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The task records {@link DispatchBench} saw, each with the time it was seen by the farm's
 * transport (a Kafka broker's append time, or an in-process claim), and what they add up to: the
 * dispatch rate, its gaps, distinct stages and later attempts. Records of every build are kept
 * (tasks may come before submit returns the build's id) and filtered when summed up.
 */
final class DispatchTaskLog {
  private final List<Long> times = new ArrayList<>();
  private final List<String> keys = new ArrayList<>();
  private final List<String> buildOf = new ArrayList<>();
  private final Set<String> retryKeys = new HashSet<>();
  private final Map<String, Boolean> builds = new ConcurrentHashMap<>();
  private volatile int expected = Integer.MAX_VALUE;

  record Summary(int records, int distinct, int retries, long spanMs, double rate, double gapP50, double gapP99,
      double gapMax) {}

  /** A task record keyed {@code <build>/<stage>}, seen at {@code timeMs}. */
  synchronized void add(long timeMs, String key, int attempt) {
    times.add(timeMs);
    keys.add(key);
    buildOf.add(key.substring(0, Math.max(0, key.indexOf('/'))));
    if (attempt > 1) {
      retryKeys.add(key);
    }
  }

  void follow(Collection<String> buildIds, int expected) {
    buildIds.forEach(id -> builds.put(id, true));
    this.expected = expected;
  }

  synchronized int records() {
    return keys.size();
  }

  /** Waits until every expected stage's task was seen, at most {@code timeout}. */
  void awaitAll(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (summary().distinct() >= expected) {
        return;
      }
      Thread.sleep(100);
    }
  }

  synchronized Summary summary() {
    List<Long> ours = new ArrayList<>();
    Set<String> stages = new HashSet<>();
    int retried = 0;
    for (int i = 0; i < keys.size(); i++) {
      if (builds.containsKey(buildOf.get(i))) {
        ours.add(times.get(i));
        stages.add(keys.get(i));
        if (retryKeys.contains(keys.get(i))) {
          retried++;
        }
      }
    }
    if (ours.size() < 2) {
      return new Summary(ours.size(), stages.size(), retried, 0, 0, 0, 0, 0);
    }
    ours.sort(null); // claims on several threads are logged nearly, not exactly, in order
    long span = ours.getLast() - ours.getFirst();
    long[] gaps = new long[ours.size() - 1];
    for (int i = 1; i < ours.size(); i++) {
      gaps[i - 1] = ours.get(i) - ours.get(i - 1);
    }
    Arrays.sort(gaps);
    return new Summary(ours.size(), stages.size(), retried, span, (ours.size() - 1) * 1000.0 / Math.max(1, span),
        gaps[gaps.length / 2], gaps[(int) (gaps.length * 0.99)], gaps[gaps.length - 1]);
  }
}
