package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.graph.Dependency;
import dev.stagefarm.program.InputPath;
import dev.stagefarm.program.ProgramInput;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The inputs one stage's ops read, each once, in the order they are first used. */
final class ProgramInputs {
  private final InputResolver resolver;
  private final Map<String, ProgramInput> used = new LinkedHashMap<>();

  ProgramInputs(InputResolver resolver) {
    this.resolver = resolver;
  }

  /** {@code path} in the stage or image {@code reference} names. */
  InputPath path(Dependency.Kind kind, String reference, int line, String path) {
    ProgramInput input = resolver.resolve(kind, reference, line);
    used.putIfAbsent(input.id(), input);
    return new InputPath(input.id(), path);
  }

  List<ProgramInput> all() {
    return List.copyOf(used.values());
  }
}
