package dev.stagefarm.dockerfile.instructions;

import java.util.List;
import java.util.Optional;

/**
 * A build stage: {@code FROM [--platform=] base [AS name]} and the instructions up to the next
 * FROM (BuildKit's {@code instructions.Stage}).
 *
 * @param index position in the Dockerfile, from 0
 * @param name the {@code AS} name in lower case, or null for an unnamed stage
 * @param baseName the base as written (may contain global ARGs, e.g. {@code alpine:${V}})
 * @param platform the {@code --platform} value as written, or null
 * @param origin the FROM line
 * @param instructions the stage's instructions in order
 */
public record Stage(
    int index,
    String name,
    String baseName,
    String platform,
    Origin origin,
    List<Instruction> instructions) {

  public Stage {
    instructions = List.copyOf(instructions);
  }

  /** The {@code AS} name, if any. */
  public Optional<String> nameIfAny() {
    return Optional.ofNullable(name);
  }

  /** BuildKit's display name: the {@code AS} name, or {@code stage-N}. */
  public String displayName() {
    return name != null ? name : "stage-" + index;
  }

  /** Whether {@code reference} names this stage (stage names are case-insensitive). */
  public boolean isNamed(String reference) {
    return name != null && name.equalsIgnoreCase(reference);
  }
}
