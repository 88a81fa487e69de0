package dev.stagefarm.dockerfile.instructions;

import java.util.List;

/**
 * The command of a RUN, CMD or ENTRYPOINT (BuildKit's {@code ShellDependantCmdLine}).
 *
 * @param args shell form: one element, the command text as written; exec form: the JSON array
 * @param prependShell true for shell form: the image's SHELL (default {@code /bin/sh -c}) runs
 *     {@code args}; false for exec form
 * @param files the heredocs of a RUN, in order (bodies as written, not chomped)
 */
public record CommandLine(List<String> args, boolean prependShell, List<InlineFile> files) {
  public CommandLine {
    args = List.copyOf(args);
    files = List.copyOf(files);
  }
}
