package dev.stagefarm.coordinator.port;

/**
 * The coordinator's word to every worker (in production the control topic): what they should stop
 * running or not start. Best effort: a lost message costs a stale run, whose result is ignored.
 */
public interface WorkerControl extends AutoCloseable {
  /** For coordinators without workers to tell (tests of the coordinator alone). */
  WorkerControl NONE = new WorkerControl() {
    @Override
    public void buildEnded(String buildId, String reason) {}

    @Override
    public void attemptIssued(String buildId, String stageId, int attempt) {}

    @Override
    public void close() {}
  };

  /** The build is over: workers kill its running stages and drop its queued tasks. */
  void buildEnded(String buildId, String reason);

  /** Attempt {@code attempt} of the stage was published: older attempts are dropped or killed. */
  void attemptIssued(String buildId, String stageId, int attempt);

  @Override
  void close();
}
