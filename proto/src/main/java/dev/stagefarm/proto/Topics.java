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
   * Control messages of the coordinator to every worker (build ended, attempt superseded), keyed by
   * build id; workers read it as plain consumers from a recent offset, not as a group.
   */
  public static final String CONTROL = "stagefarm.control";

  /** The share group the workers join on {@link #TASKS}. */
  public static final String WORKER_SHARE_GROUP = "stagefarm-workers";

  /** The schema version written into every payload by this code (2: tasks carry stage programs). */
  public static final int SCHEMA_VERSION = 2;

  private Topics() {}
}
