package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.instructions.CommandLine;
import dev.stagefarm.dockerfile.instructions.InlineFile;
import dev.stagefarm.dockerfile.parser.Heredocs;
import java.util.ArrayList;
import java.util.List;

/** The argv of a RUN, CMD or ENTRYPOINT: shell form wrapped in the stage's SHELL (BuildKit's withShell). */
final class ShellForm {
  /** What runs shell form when the image sets no SHELL. */
  static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");

  private ShellForm() {}

  /**
   * A RUN's argv, heredocs applied as BuildKit's dispatchRun does: a lone heredoc command becomes
   * the script, otherwise the heredoc bodies are appended to the command line for the shell.
   */
  static List<String> run(CommandLine command, List<String> shell) {
    List<String> args = command.args();
    if (!command.files().isEmpty() && command.prependShell() && args.size() == 1) {
      if (Heredocs.parseOrEmpty(args.get(0)).isPresent()) {
        args = List.of(command.files().get(0).chompedData());
      } else {
        StringBuilder full = new StringBuilder(args.get(0));
        for (InlineFile file : command.files()) {
          full.append('\n').append(file.data()).append(file.name());
        }
        args = List.of(full.toString());
      }
    }
    return wrap(args, command.prependShell(), shell);
  }

  /** A CMD's or ENTRYPOINT's argv. */
  static List<String> command(CommandLine command, List<String> shell) {
    return wrap(command.args(), command.prependShell(), shell);
  }

  private static List<String> wrap(List<String> args, boolean prependShell, List<String> shell) {
    if (!prependShell) {
      return args;
    }
    List<String> argv = new ArrayList<>(shell.isEmpty() ? DEFAULT_SHELL : shell);
    argv.addAll(args);
    return List.copyOf(argv);
  }
}
