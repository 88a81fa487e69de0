package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.Topics;
import java.time.Duration;

/** A task loop in a child JVM, so a test can kill it with SIGKILL. Args: bootstrap, worker id. */
public final class WorkerProcessMain {
  public static void main(String[] args) throws InterruptedException {
    String bootstrap = args[0];
    String workerId = args[1];
    TaskSlot.Settings settings = new TaskSlot.Settings(bootstrap, Topics.WORKER_SHARE_GROUP, workerId,
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ZERO, TaskLoopTest.FARM_KEYS);
    new TaskLoop(settings, 1, Duration.ofMillis(500), new SleepingRunner(workerId, 600_000)).start();
    System.out.println("READY");
    Thread.sleep(Long.MAX_VALUE);
  }
}
