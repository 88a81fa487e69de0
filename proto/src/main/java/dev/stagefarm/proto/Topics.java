package dev.stagefarm.proto;

/** Kafka topic names of the stagefarm protocol (docs/protocol.md). */
public final class Topics {
  /** Stage tasks, consumed by workers as a share group. */
  public static final String TASKS = "stagefarm.tasks";

  /** Worker events (started, heartbeat, log, instruction done, completed, failed), keyed by build id. */
  public static final String EVENTS = "stagefarm.events";

  /** Compacted build records, keyed by build id: the coordinator's durable state. */
  public static final String BUILDS = "stagefarm.builds";

  /**
   * Coordinator leadership (one partition): the coordinators of a farm form one consumer group on
   * it and the member that owns the partition is the active coordinator; the active one writes its
   * address here (key = that group), so standbys can name it.
   */
  public static final String LEADER = "stagefarm.leader";

  /** The share group the workers join on {@link #TASKS}. */
  public static final String WORKER_SHARE_GROUP = "stagefarm-workers";

  /** The schema version written into every payload by this code (2: tasks carry stage programs). */
  public static final int SCHEMA_VERSION = 2;

  private Topics() {}
}
