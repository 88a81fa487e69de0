package dev.stagefarm.cli;

import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.worker.kafka.FarmAcls;
import dev.stagefarm.worker.kafka.FarmTopics;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stagefarm admin kafka-acls}: prints the Kafka ACLs of the farm's roles ({@link FarmAcls})
 * and, with {@code --apply}, creates them as an admin principal.
 */
@Command(
    name = "kafka-acls",
    mixinStandardHelpOptions = true,
    description = "Print (and with --apply create) the Kafka ACLs of the coordinator and worker principals"
        + " (docs/security.md, \"Kafka\").")
public final class KafkaAclsCommand implements Callable<Integer> {
  @Option(names = "--coordinator-principal", defaultValue = "User:coordinator", paramLabel = "TYPE:NAME",
      description = "The coordinator's Kafka principal (default: User:coordinator).")
  String coordinator;

  @Option(names = "--worker-principal", defaultValue = "User:worker", paramLabel = "TYPE:NAME",
      description = "The principal every worker connects as (default: User:worker).")
  String worker;

  @Option(names = "--share-group", defaultValue = Topics.WORKER_SHARE_GROUP, paramLabel = "GROUP",
      description = "The workers' share group (worker key share-group; default: " + Topics.WORKER_SHARE_GROUP + ").")
  String shareGroup;

  @Option(names = "--apply", description = "Create the ACLs on the cluster of --kafka (as a principal allowed to"
      + " alter ACLs: a super user).")
  boolean apply;

  @Option(names = "--kafka", paramLabel = "HOST:PORT[,…]", description = "Kafka bootstrap servers (with --apply).")
  String kafka;

  @Mixin KafkaPropertiesFlag kafkaProperties;

  @Override
  public Integer call() {
    List<FarmAcls.Grant> grants;
    try {
      grants = FarmAcls.grants(new FarmAcls.Roles(coordinator, worker, shareGroup));
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    System.out.println("%-24s %-14s %-36s %s".formatted("PRINCIPAL", "OPERATION", "RESOURCE", "WHY"));
    grants.forEach(g -> System.out.println(g.describe()));
    if (!apply) {
      return 0;
    }
    if (kafka == null) {
      throw new UserError("--apply needs --kafka HOST:PORT (and --kafka-properties for an admin principal)");
    }
    KafkaClientProperties security = kafkaProperties.load();
    try (Admin admin = FarmTopics.admin(kafka, security)) {
      FarmAcls.apply(admin, grants);
    } catch (FarmTopics.KafkaSetupException e) {
      throw new UserError(e.getMessage());
    }
    System.err.println("created " + grants.size() + " ACLs on " + kafka);
    return 0;
  }
}
