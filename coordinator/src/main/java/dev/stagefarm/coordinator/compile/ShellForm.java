package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.instructions.CommandLine;
import dev.stagefarm.dockerfile.instructions.InlineFile;
import dev.stagefarm.dockerfile.parser.Heredocs;
import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.Mount;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The argv of a RUN, CMD or ENTRYPOINT: shell form wrapped in the stage's SHELL (BuildKit's withShell). */
final class ShellForm {
  /** What runs shell form when the image sets no SHELL. */
  static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");

  private ShellForm() {}

  /** Where BuildKit mounts a RUN's shebang heredoc. */
  static final String PIPES = "/dev/pipes";

  /**
   * A RUN's argv and, for a shebang heredoc, the mount that carries its script.
   *
   * @param script the read-only {@code /dev/pipes} directory holding the heredoc, when the RUN
   *     executes it as a file
   */
  record Run(List<String> argv, Optional<Mount.Inline> script) {}

  /**
   * A RUN's argv, heredocs applied as BuildKit's dispatchRun does: a lone heredoc command becomes
   * the script — written to {@code /dev/pipes/<name>} (mode 0755) and executed when it starts with
   * "#!", so its interpreter runs it, else handed to the shell as the command — otherwise the
   * heredoc bodies are appended to the command line for the shell.
   */
  static Run run(CommandLine command, List<String> shell) {
    List<String> args = command.args();
    Optional<Mount.Inline> script = Optional.empty();
    if (!command.files().isEmpty() && command.prependShell() && args.size() == 1) {
      if (Heredocs.parseOrEmpty(args.get(0)).isPresent()) {
        InlineFile heredoc = command.files().get(0);
        String body = heredoc.chompedData();
        if (body.startsWith("#!")) {
          script = Optional.of(new Mount.Inline(PIPES,
              List.of(new CopySource.Inline(heredoc.name(), body.getBytes(StandardCharsets.UTF_8))), 0755));
          args = List.of(PIPES + "/" + heredoc.name());
        } else {
          args = List.of(body);
        }
      } else {
        StringBuilder full = new StringBuilder(args.get(0));
        for (InlineFile file : command.files()) {
          full.append('\n').append(file.data()).append(file.name());
        }
        args = List.of(full.toString());
      }
    }
    return new Run(wrap(args, command.prependShell(), shell), script);
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
