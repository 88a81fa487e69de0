package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.v1.ControlMessage;
import dev.stagefarm.proto.v1.StageTask;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What this worker has heard on {@code stagefarm.control}: which builds are over and which
 * attempt of a stage is current. A task of an ended build, or an attempt older than the current
 * one, is not worth running (docs/protocol.md, "Control messages"). Thread-safe.
 *
 * <p>Bounded: the oldest entries go first once {@link #MAX_ENTRIES} are held; a forgotten entry
 * only costs a stale task its run (the coordinator ignores its result).
 *
 * <p>One per farm in a process ({@link #share}): the workers of an embedded farm (32 in one JVM) hear the same
 * control messages, so they keep one memory of them instead of 32 copies. Each worker still reads and verifies
 * every message itself; applying one twice changes nothing. The bound does not scale with slots: how many ended
 * builds must be remembered depends on the farm's rate of builds, not on this host's slots.
 */
final class BuildControl {
  static final int MAX_ENTRIES = 100_000;

  /**
   * Workers hear the same control messages when they are on the same farm: the same transport address and the
   * same keys ({@link FarmKeys} compares by identity: the embedded farms hand one instance to all their workers;
   * a worker with other keys may trust other messages, so it gets a memory of its own).
   */
  record Farm(String transport, FarmKeys keys) {}

  private static final Map<Farm, BuildControl> SHARED = new HashMap<>(); // guarded by BuildControl.class

  private final Farm farm;
  private int users; // guarded by BuildControl.class

  /** Why a task should not run, for logs and the cancelled stage's outcome. */
  record Verdict(String reason) {}

  private final Map<String, String> endedBuilds = bounded();
  private final Map<String, Integer> currentAttempts = bounded();

  private BuildControl(Farm farm) {
    this.farm = farm;
  }

  /** The memory of {@code farm}'s control messages in this process; {@link #release()} it when done. */
  static BuildControl share(Farm farm) {
    synchronized (BuildControl.class) {
      BuildControl control = SHARED.computeIfAbsent(farm, BuildControl::new);
      control.users++;
      return control;
    }
  }

  /** One user of a shared memory is done; the last forgets it (a farm started again later begins afresh). */
  void release() {
    synchronized (BuildControl.class) {
      if (--users == 0) {
        SHARED.remove(farm, this);
      }
    }
  }

  private static <V> Map<String, V> bounded() {
    return new LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > MAX_ENTRIES;
      }
    };
  }

  synchronized void apply(ControlMessage message) {
    switch (message.getKindCase()) {
      case BUILD_ENDED -> endedBuilds.put(message.getBuildId(), message.getBuildEnded().getReason());
      case ATTEMPT_ISSUED -> currentAttempts.merge(
          message.getBuildId() + "/" + message.getAttemptIssued().getStageId(),
          message.getAttemptIssued().getAttempt(), Math::max);
      default -> { } // a newer coordinator's message kind: nothing to do
    }
  }

  /** Empty when the task may run; otherwise why it must not. */
  synchronized Optional<Verdict> check(StageTask task) {
    String ended = endedBuilds.get(task.getBuildId());
    if (ended != null) {
      return Optional.of(new Verdict("build " + task.getBuildId() + " ended (" + ended + ")"));
    }
    Integer current = currentAttempts.get(task.getBuildId() + "/" + task.getStageId());
    if (current != null && current > task.getAttempt()) {
      return Optional.of(new Verdict("attempt " + task.getAttempt() + " of stage " + task.getStageId()
          + " was superseded by attempt " + current));
    }
    return Optional.empty();
  }
}
