package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.DockerfileException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code RUN [--mount=...]... [--network=] [--security=] command} in shell or exec form,
 * possibly with heredocs.
 *
 * <p>The command itself is never expanded by the frontend: the shell does that at run time, with
 * the stage's ENV and ARG values in its environment. {@link #expand(WordExpander)} expands only
 * the {@code --mount} option values.
 *
 * @param command the command line and its heredoc files
 * @param mountSpecs the {@code --mount} values as written
 * @param mounts the mounts parsed from {@code mountSpecs}; before {@link #expand} their values are
 *     as written (a spec whose literal form is invalid but uses a variable is left out until then)
 * @param network {@code --network}, {@link NetworkMode#DEFAULT} when not written
 * @param security {@code --security}, {@link SecurityMode#SANDBOX} when not written
 * @param flagsUsed the names of the flags written, in order
 */
public record RunInstruction(
    Origin origin,
    CommandLine command,
    List<String> mountSpecs,
    List<RunMount> mounts,
    NetworkMode network,
    SecurityMode security,
    List<String> flagsUsed)
    implements Instruction {

  public RunInstruction {
    mountSpecs = List.copyOf(mountSpecs);
    mounts = List.copyOf(mounts);
    flagsUsed = List.copyOf(flagsUsed);
  }

  /** Re-parses the {@code --mount} values with their variables expanded. */
  @Override
  public RunInstruction expand(WordExpander expander) {
    WordExpander e = expander.at(origin);
    List<RunMount> expanded = new ArrayList<>();
    for (String spec : mountSpecs) {
      try {
        expanded.add(RunMount.parse(spec, e::word));
      } catch (IllegalArgumentException ex) {
        throw new DockerfileException(origin.line(), ex.getMessage(), ex);
      }
    }
    return new RunInstruction(
        origin, command, mountSpecs, expanded, network, security, flagsUsed);
  }

  /** Parses the mounts as written; specs that only make sense once expanded are deferred. */
  static List<RunMount> literalMounts(List<String> specs) {
    List<RunMount> mounts = new ArrayList<>();
    for (String spec : specs) {
      try {
        mounts.add(RunMount.parse(spec, v -> v));
      } catch (IllegalArgumentException e) {
        if (!spec.contains("$") || e.getMessage().startsWith("'from'")) {
          throw e;
        }
      }
    }
    return mounts;
  }
}
