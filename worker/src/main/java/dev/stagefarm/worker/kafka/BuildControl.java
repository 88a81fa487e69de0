package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.v1.ControlMessage;
import dev.stagefarm.proto.v1.StageTask;
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
 */
final class BuildControl {
  static final int MAX_ENTRIES = 100_000;

  /** Why a task should not run, for logs and the cancelled stage's outcome. */
  record Verdict(String reason) {}

  private final Map<String, String> endedBuilds = bounded();
  private final Map<String, Integer> currentAttempts = bounded();

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
