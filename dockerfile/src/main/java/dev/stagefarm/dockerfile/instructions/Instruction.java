package dev.stagefarm.dockerfile.instructions;

import java.util.Locale;

/**
 * One typed Dockerfile instruction inside a build stage (BuildKit's {@code instructions.Command}).
 *
 * <p>FROM is not an instruction here: it opens a {@link Stage}. Values are kept as written (quotes
 * included, variables unexpanded); {@link #expand(WordExpander)} applies BuildKit's execution-time
 * variable expansion with the environment in scope at that point of the stage.
 */
public sealed interface Instruction
    permits AddInstruction,
        ArgInstruction,
        CmdInstruction,
        CopyInstruction,
        EntrypointInstruction,
        EnvInstruction,
        ExposeInstruction,
        HealthcheckInstruction,
        LabelInstruction,
        MaintainerInstruction,
        OnbuildInstruction,
        RunInstruction,
        ShellInstruction,
        StopSignalInstruction,
        UserInstruction,
        VolumeInstruction,
        WorkdirInstruction {

  /** The keyword, line range and source text. */
  Origin origin();

  /** First physical line (1-based). */
  default int line() {
    return origin().line();
  }

  /** Last physical line, heredoc bodies included. */
  default int endLine() {
    return origin().endLine();
  }

  /** The instruction as written (trimmed logical line). */
  default String original() {
    return origin().original();
  }

  /** The keyword in upper case, e.g. {@code RUN}. */
  default String name() {
    return origin().keyword().toUpperCase(Locale.ROOT);
  }

  /**
   * A copy with its words expanded the way BuildKit's dispatcher does before executing it (the
   * {@code Expand} methods of BuildKit's {@code instructions/commands.go}). Instructions BuildKit
   * does not expand (CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER, the RUN command
   * line) are returned unchanged; RUN expands only its {@code --mount} options.
   *
   * @throws dev.stagefarm.dockerfile.DockerfileException at this instruction's line when a word
   *     cannot be expanded (e.g. {@code ${V:?not set}})
   */
  Instruction expand(WordExpander expander);
}
