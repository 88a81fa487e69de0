package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.proto.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka ACLs of a farm, per role (docs/security.md, "Kafka"): with them and {@code
 * allow.everyone.if.no.acl.found=false} a worker's principal can take tasks and report events, but
 * cannot publish a task, read the build journal or act as the coordinator, and nobody else can do
 * anything. {@code stagefarm admin kafka-acls} prints and applies them.
 *
 * <p>Kafka lets READ and WRITE imply DESCRIBE, and WRITE on a topic imply the idempotent producer's
 * IDEMPOTENT_WRITE (KIP-679), so neither is listed.
 */
public final class FarmAcls {
  /** The prefix of the coordinator's consumer group(s) on {@link Topics#EVENTS}. */
  public static final String COORDINATOR_GROUP_PREFIX = "stagefarm-coordinator";

  /**
   * @param coordinator the coordinator's principal, e.g. {@code User:coordinator} (the SASL user,
   *     or the mTLS certificate's mapped name)
   * @param worker the principal every worker connects as
   * @param shareGroup the workers' share group ({@code share-group}, default {@link
   *     Topics#WORKER_SHARE_GROUP})
   */
  public record Roles(String coordinator, String worker, String shareGroup) {
    public Roles {
      requirePrincipal(coordinator, "coordinator");
      requirePrincipal(worker, "worker");
      if (coordinator.equals(worker)) {
        throw new IllegalArgumentException("the coordinator and the workers need different principals (" + worker
            + " for both): with one, a worker could publish tasks");
      }
    }

    public static Roles of(String coordinator, String worker) {
      return new Roles(coordinator, worker, Topics.WORKER_SHARE_GROUP);
    }
  }

  /** One ACL as a row of the table docs/security.md shows. */
  public record Grant(String principal, AclOperation operation, ResourceType resource, PatternType pattern,
      String name, String why) {
    AclBinding binding() {
      return new AclBinding(new ResourcePattern(resource, name, pattern),
          new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW));
    }

    /** {@code User:worker  READ  TOPIC stagefarm.tasks  (take tasks ...)}. */
    public String describe() {
      String target = resource + " " + (pattern == PatternType.PREFIXED ? name + "*" : name);
      return "%-24s %-14s %-36s %s".formatted(principal, operation, target, why);
    }
  }

  private FarmAcls() {}

  /** Every ACL the farm's roles need, and nothing more. */
  public static List<Grant> grants(Roles roles) {
    String c = roles.coordinator();
    String w = roles.worker();
    List<Grant> grants = new ArrayList<>();
    for (String t : TaskRouting.topics()) {
      grants.add(topic(c, AclOperation.WRITE, t, "publish stage tasks"));
    }
    grants.add(topic(c, AclOperation.READ, Topics.EVENTS, "consume worker events"));
    grants.add(topic(c, AclOperation.READ, Topics.BUILDS, "replay the build journal"));
    grants.add(topic(c, AclOperation.WRITE, Topics.BUILDS, "record builds"));
    grants.add(topic(c, AclOperation.READ, Topics.LEADER, "the leader election, and the active one's address"));
    grants.add(topic(c, AclOperation.WRITE, Topics.LEADER, "announce its address when active"));
    grants.add(topic(c, AclOperation.WRITE, Topics.CONTROL, "tell workers of ended builds and superseded attempts"));
    grants.add(new Grant(c, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, PatternType.PREFIXED,
        COORDINATOR_GROUP_PREFIX, "its fenced (transactional) writes of tasks and records"));
    grants.add(new Grant(c, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, PatternType.PREFIXED,
        COORDINATOR_GROUP_PREFIX, "its fenced (transactional) writes of tasks and records"));
    List<String> created = new ArrayList<>(TaskRouting.topics());
    created.addAll(List.of(Topics.EVENTS, Topics.BUILDS, Topics.LEADER, Topics.CONTROL));
    for (String t : created) {
      grants.add(topic(c, AclOperation.CREATE, t, "create missing topics at start (--create-topics)"));
    }
    grants.add(new Grant(c, AclOperation.READ, ResourceType.GROUP, PatternType.PREFIXED, COORDINATOR_GROUP_PREFIX,
        "its consumer group on " + Topics.EVENTS));
    grants.add(new Grant(c, AclOperation.ALTER_CONFIGS, ResourceType.GROUP, PatternType.LITERAL, roles.shareGroup(),
        "set the share group's config at start (--create-topics)"));
    for (String t : TaskRouting.topics()) {
      grants.add(topic(w, AclOperation.READ, t, "take tasks (share group)"));
    }
    grants.add(topic(w, AclOperation.WRITE, Topics.EVENTS, "report events"));
    grants.add(topic(w, AclOperation.READ, Topics.CONTROL, "hear of ended builds and superseded attempts"));
    grants.add(new Grant(w, AclOperation.READ, ResourceType.GROUP, PatternType.LITERAL, roles.shareGroup(),
        "join the share group"));
    return List.copyOf(grants);
  }

  /** Creates the ACLs (idempotent: an ACL that exists already is left as it is). */
  public static void apply(Admin admin, List<Grant> grants) {
    try {
      admin.createAcls(grants.stream().map(Grant::binding).toList()).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new FarmTopics.KafkaSetupException("creating the farm's Kafka ACLs failed: "
          + (e.getCause() == null ? e : e.getCause()).getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FarmTopics.KafkaSetupException("interrupted while creating the farm's Kafka ACLs", e);
    }
  }

  private static Grant topic(String principal, AclOperation operation, String topic, String why) {
    return new Grant(principal, operation, ResourceType.TOPIC, PatternType.LITERAL, topic, why);
  }

  private static void requirePrincipal(String principal, String role) {
    if (principal == null || !principal.matches("[A-Za-z]+:.+")) {
      throw new IllegalArgumentException("the " + role + " principal must be TYPE:NAME (e.g. User:" + role + "), got '"
          + principal + "'");
    }
  }
}
