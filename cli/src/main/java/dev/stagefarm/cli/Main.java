package dev.stagefarm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code stagefarm} command. Each subcommand lives in its own class; register it here.
 * Subcommands report user errors by throwing {@link UserError}: the message is printed as one
 * line on stderr and the process exits non-zero, never with a stack trace.
 */
@Command(
    name = "stagefarm",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "A distributed build farm for Dockerfiles.",
    subcommands = {
      CommandLine.HelpCommand.class,
      ParseCommand.class,
      GraphCommand.class,
      BuildCommand.class,
      BakeCommand.class,
      UpCommand.class,
      CoordinatorCommand.class,
      WorkerCommand.class,
      ImageCommand.class,
      AdminCommand.class,
      dev.stagefarm.cli.manage.LsCommand.class,
      dev.stagefarm.cli.manage.LogsCommand.class,
      dev.stagefarm.cli.manage.CancelCommand.class,
      dev.stagefarm.cli.manage.DuCommand.class,
      dev.stagefarm.cli.manage.PruneCommand.class,
      FarmCommand.class,
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code (tests call this instead of main). */
  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          if (ex instanceof UserError) {
            commandLine.getErr().println("error: " + ex.getMessage());
            return ((UserError) ex).exitCode();
          }
          String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
          commandLine.getErr().println("error: " + message);
          if (Boolean.getBoolean("stagefarm.debug")) {
            ex.printStackTrace(commandLine.getErr());
          } else {
            commandLine.getErr().println("(internal error; run with STAGEFARM_DEBUG=1 for the stack trace)");
          }
          return ExitCodes.INTERNAL;
        });
    return cli.execute(args);
  }
}
