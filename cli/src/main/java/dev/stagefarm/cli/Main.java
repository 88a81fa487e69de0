package dev.stagefarm.cli;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code stagefarm} command. Each subcommand lives in its own class; register it in {@link
 * #SUBCOMMANDS}. Subcommands report user errors by throwing {@link UserError}: the message is
 * printed as one line on stderr and the process exits non-zero, never with a stack trace.
 */
@Command(
    name = "stagefarm",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "A distributed build farm for Dockerfiles.")
public final class Main implements Runnable {

  /**
   * The subcommands, in the order the usage lists them. Registered here rather than in the
   * annotation so that a run names the one it needs: picocli introspects every registered command
   * (options, mixins, converters, the config key tables of up/coordinator/worker), which was most of
   * the client's start-up (issue 12).
   */
  static final List<Class<?>> SUBCOMMANDS = List.of(
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
      FarmCommand.class);

  /** picocli's switch for its look for Groovy's {@code Closure} class (set by {@link #main} unless given). */
  static final String NO_GROOVY_CLOSURES = "picocli.disable.closures";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  public static void main(String[] args) {
    // picocli looks for Groovy (closures in annotations) when its factory class initialises: a class found in no jar
    // of the ~170 on the class path, so the main thread opened every one of them before building the command line
    // (bench/README.md, "Session 12 (issue 12): the one-shot JVM's start"); no command of ours uses Groovy
    System.getProperties().putIfAbsent(NO_GROOVY_CLOSURES, "true");
    OneShotWarmUp.startFor(args); // a one-shot's option-independent start-up work, beside the parse
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code (tests call this instead of main). */
  public static int execute(String... args) {
    return execute(null, args);
  }

  /**
   * Runs the command line with {@code run}'s streams, environment and working directory (the
   * local farm, for a thin client: {@code LocalFarmRuns}); null: this process's.
   */
  public static int execute(RunContext run, String... args) {
    CommandLine cli = commandLine(run, args);
    reportErrors(cli);
    return cli.execute(args);
  }

  /** How a run of {@link #execute(RunContext, Function, String...)} ended. */
  public sealed interface Outcome {
    /** The command line ran (or was a usage error) and exited with {@code exitCode}. */
    record Ran(int exitCode) implements Outcome {}

    /** The gate declined the parsed command line: nothing of it ran. */
    record Declined(String why) implements Outcome {}
  }

  /**
   * As {@link #execute(RunContext, String...)}, with {@code gate} asked about the parsed command line
   * before it runs: the local farm decides there whether it runs a thin client's command line or
   * hands it back ({@code LocalFarmRuns}), on the one parse the run then executes (a second parse of
   * the same line cost ~20 ms of the farm's CPU per warm build: bench/README, "Session 11"). A usage
   * error is reported without asking the gate, as the JVM client reports it.
   *
   * @param gate empty: run it; else why not
   */
  public static Outcome execute(RunContext run, Function<CommandLine.ParseResult, Optional<String>> gate,
      String... args) {
    return execute(commandLine(null, args), run, gate, args);
  }

  /**
   * As {@link #execute(RunContext, Function, String...)}, on {@code unused}: a command line of {@link
   * #commandLine(RunContext, String...)} for {@code args} without a run, that nothing has parsed or run
   * yet (the local farm builds one ahead, off the run's path: {@code SpareCommandLines}). Its
   * commands' objects hold the option values: one command line serves one run.
   */
  public static Outcome execute(CommandLine unused, RunContext run,
      Function<CommandLine.ParseResult, Optional<String>> gate, String... args) {
    CommandLine cli = serve(unused, run);
    reportErrors(cli);
    CommandLine.IExecutionStrategy strategy = cli.getExecutionStrategy();
    String[] declined = new String[1];
    // picocli's execute catches every exception of a strategy (and prints it): the decline is recorded, not thrown
    cli.setExecutionStrategy(parsed -> {
      Optional<String> why = gate.apply(parsed);
      if (why.isPresent()) {
        declined[0] = why.get();
        return 0;
      }
      return strategy.execute(parsed);
    });
    int code = cli.execute(args);
    return declined[0] != null ? new Outcome.Declined(declined[0]) : new Outcome.Ran(code);
  }

  /** A {@link UserError} as one line with its exit code; anything else as an internal error, without its trace. */
  private static void reportErrors(CommandLine cli) {
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
  }

  /** A fresh command line for {@code args}; with a run, its commands take their streams and environment from it. */
  public static CommandLine commandLine(RunContext run, String... args) {
    CommandLine cli = new CommandLine(new Main());
    for (Class<?> subcommand : subcommandsFor(args)) {
      // a CommandLine of its own: picocli applies a command's model transformer (the config key
      // tables of up/coordinator/worker) only in the constructor, not to a class added later
      cli.addSubcommand(ServerSide.commandLine(subcommand));
    }
    return serve(cli, run);
  }

  /** {@code cli} with its commands taking their streams and environment from {@code run} (null: this process's). */
  private static CommandLine serve(CommandLine cli, RunContext run) {
    if (run != null) {
      cli.setOut(new java.io.PrintWriter(run.out(), true));
      cli.setErr(new java.io.PrintWriter(run.err(), true));
      for (CommandLine sub : cli.getSubcommands().values()) {
        dev.stagefarm.cli.farm.FarmSelection.of(sub.getCommandSpec()).ifPresent(selection -> selection.runIn(run));
      }
    }
    return cli;
  }

  /**
   * The subcommands a command line needs: the one its first argument names, or all of them (for
   * {@code help}, the usage, {@code --version} and a mistyped name, which picocli reports with
   * suggestions).
   */
  static List<Class<?>> subcommandsFor(String... args) {
    if (args.length > 0 && !args[0].equals("help")) {
      for (Class<?> subcommand : SUBCOMMANDS) {
        if (subcommand.getAnnotation(Command.class).name().equals(args[0])) {
          return List.of(subcommand);
        }
      }
    }
    return SUBCOMMANDS;
  }
}
