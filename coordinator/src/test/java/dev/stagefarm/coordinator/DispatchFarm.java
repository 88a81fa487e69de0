package dev.stagefarm.coordinator;

/**
 * The farm {@link DispatchBench} measures: a running, active coordinator, synthetic workers that
 * complete each task at once, and the log of the tasks as the farm's transport saw them.
 */
interface DispatchFarm {
  /** What the farm is, for the report's first line (transport, store, keys). */
  String describe();

  CoordinatorNode node();

  DispatchTaskLog tasks();

  /** Where the task log's times come from, for the report (the broker's clock, or claims on the bus). */
  String taskClock();

  /** Tasks the synthetic workers took (verified and parsed). */
  long taken();

  /** Completions the synthetic workers published. */
  long completed();

  /** What the transport says about the coordinator's writers at the end (Kafka: the journal's producers), or "". */
  default String writers() {
    return "";
  }
}
