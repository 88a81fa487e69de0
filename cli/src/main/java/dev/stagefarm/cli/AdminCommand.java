package dev.stagefarm.cli;

import picocli.CommandLine.Command;

/** {@code stagefarm admin}: one-off tasks of the farm's operator. */
@Command(
    name = "admin",
    mixinStandardHelpOptions = true,
    description = "Set a farm up: Kafka topics and ACLs, farm keys.",
    subcommands = {KafkaAclsCommand.class, FarmKeysCommand.class, TopicsCommand.class})
public final class AdminCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }
}
