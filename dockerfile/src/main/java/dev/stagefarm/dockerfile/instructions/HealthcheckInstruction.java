package dev.stagefarm.dockerfile.instructions;

import java.time.Duration;
import java.util.List;

/**
 * {@code HEALTHCHECK NONE} or {@code HEALTHCHECK [--interval=] [--timeout=] [--start-period=]
 * [--start-interval=] [--retries=] CMD command}.
 *
 * @param test the image config's {@code Healthcheck.Test}: {@code ["NONE"]}, {@code ["CMD", exec
 *     args...]} or {@code ["CMD-SHELL", "command"]}
 * @param interval zero when not set
 * @param timeout zero when not set
 * @param startPeriod zero when not set
 * @param startInterval zero when not set
 * @param retries zero when not set
 */
public record HealthcheckInstruction(
    Origin origin,
    List<String> test,
    Duration interval,
    Duration timeout,
    Duration startPeriod,
    Duration startInterval,
    int retries)
    implements Instruction {

  public HealthcheckInstruction {
    test = List.copyOf(test);
  }

  /** Whether this is {@code HEALTHCHECK NONE} (disables a healthcheck inherited from the base). */
  public boolean isNone() {
    return test.size() == 1 && test.get(0).equals("NONE");
  }

  @Override
  public HealthcheckInstruction expand(WordExpander expander) {
    return this;
  }
}
