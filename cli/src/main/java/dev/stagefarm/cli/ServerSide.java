package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.EmbeddedFarmSupport;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The commands that run the farm itself ({@code up}, {@code coordinator}, {@code worker}) or talk to
 * its Kafka cluster ({@code admin}): they need modules {@code coordinator} and {@code worker} and
 * the Kafka client, which the thin client distribution (module {@code client}) leaves out. There
 * each is replaced by a command of the same name that ends with one line saying what is missing,
 * so that neither picocli's look at the command's class nor its run ever meets a missing class.
 */
final class ServerSide {
  /** A class of module {@code worker} and one of the Kafka client: present in the full distribution only. */
  private static final String[] MARKERS = {
      "dev.stagefarm.worker.kafka.FarmTopics", "org.apache.kafka.clients.admin.Admin"};

  /** The commands of the full distribution only: name → what they need it for. */
  static final Map<Class<?>, String> COMMANDS = Map.of(
      UpCommand.class, "up",
      CoordinatorCommand.class, "coordinator",
      WorkerCommand.class, "worker",
      AdminCommand.class, "admin");

  private ServerSide() {}

  /** Whether this distribution carries the coordinator, the worker and the Kafka client. */
  static boolean available() {
    for (String marker : MARKERS) {
      try {
        Class.forName(marker, false, ServerSide.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        return false;
      }
    }
    return true;
  }

  /** The command line of {@code command}: itself, or in the thin client the one-line refusal under its name. */
  static CommandLine commandLine(Class<?> command) {
    String name = COMMANDS.get(command);
    if (name == null || available()) {
      return new CommandLine(command);
    }
    Callable<Integer> refusal = () -> {
      if (command == UpCommand.class) {
        EmbeddedFarmSupport.require("stagefarm up"); // says the same as --one-shot does
      }
      throw ExitCodes.farm("stagefarm " + name + " needs the farm's server side (modules coordinator and worker,"
          + " the Kafka client), which this thin client distribution leaves out: use the full distribution"
          + " (./stagefarm) or the stagefarm-coordinator and stagefarm-worker images");
    };
    CommandSpec spec = CommandSpec.wrapWithoutInspection(refusal).name(name);
    spec.usageMessage().description("(the full distribution only: not in this thin client)");
    // any arguments: the refusal, not a usage error, is what the user sees
    spec.addPositional(PositionalParamSpec.builder().arity("0..*").paramLabel("ARGS").type(String[].class)
        .hidden(true).build());
    spec.parser().unmatchedOptionsArePositionalParams(true);
    return new CommandLine(spec);
  }
}
