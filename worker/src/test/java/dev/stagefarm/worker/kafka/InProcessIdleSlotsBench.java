package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.transport.InProcessWorkerTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A measurement, not a test (bench/README.md, "Session 9"): {@link IdleSlotsBench} on the in-process bus
 * (the local and one-shot farms): {@code slots} single-slot workers' loops on one bus; prints this
 * JVM's CPU over an idle window, the hand-off latency (a task's publish to its slot's start, one
 * task at a time, every slot idle) and when each of {@code slots} tasks published together started.
 * Run with the worker's test classpath: {@code java -cp ... dev.stagefarm.worker.kafka.InProcessIdleSlotsBench 32 30}.
 */
public final class InProcessIdleSlotsBench {
  private InProcessIdleSlotsBench() {}

  public static void main(String[] args) throws Exception {
    int slots = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    long idleSeconds = args.length > 1 ? Long.parseLong(args[1]) : 30;
    InProcessBus bus = new InProcessBus(Duration.ofSeconds(30), 5);
    FarmKeys keys = FarmKeys.generate();
    InProcessWorkerTransport transport = new InProcessWorkerTransport(bus, keys);
    Map<String, Long> startedNanos = new ConcurrentHashMap<>();
    Thread events = Thread.ofPlatform().daemon().start(() -> {
      try {
        while (true) {
          SignedRecord record = bus.takeEvent(Duration.ofSeconds(1));
          if (record != null) {
            StageEvent e = StageEvent.parseFrom(record.value());
            if (e.getKindCase() == StageEvent.KindCase.STARTED) {
              startedNanos.putIfAbsent(e.getBuildId() + "/" + e.getStageId(), System.nanoTime());
            }
          }
        }
      } catch (Exception e) {
        // the bench ends
      }
    });
    List<TaskLoop> loops = new ArrayList<>();
    for (int i = 0; i < slots; i++) {
      // the local farm's shape: single-slot workers (the poll timeout its workers get: 1 s)
      TaskSlot.Settings settings = new TaskSlot.Settings("", Topics.WORKER_SHARE_GROUP, "bench-" + i,
          Duration.ofSeconds(1), Duration.ZERO, Duration.ofSeconds(10), Duration.ZERO, keys);
      loops.add(new TaskLoop(transport, settings, 1, Duration.ofSeconds(5), new SleepingRunner("bench-" + i),
          StageProgram.VERSION).start());
    }
    Thread.sleep(3_000);
    long cpu0 = IdleSlotsBench.cpuTicks();
    Thread.sleep(idleSeconds * 1000);
    long cpu1 = IdleSlotsBench.cpuTicks();
    System.out.printf("BENCH idle %d s, %d single-slot workers on the in-process bus: %.2f s CPU (this JVM)%n",
        idleSeconds, slots, (cpu1 - cpu0) / 100.0);

    List<Long> latencies = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String key = "one/s" + i;
      long published = System.nanoTime();
      publish(bus, keys, "one", "s" + i, 0);
      while (!startedNanos.containsKey(key)) {
        Thread.onSpinWait();
      }
      latencies.add((startedNanos.get(key) - published) / 1_000);
      Thread.sleep(100); // the slot reports and is idle again
    }
    latencies.sort(null);
    System.out.printf("BENCH hand-off (publish -> slot started, idle slots), 30 tasks one at a time: median %d us,"
        + " max %d us%n", latencies.get(latencies.size() / 2), latencies.getLast());

    long together = System.nanoTime();
    for (int i = 0; i < slots; i++) {
      publish(bus, keys, "together", "s" + i, 2000);
    }
    while (startedNanos.keySet().stream().filter(k -> k.startsWith("together/")).count() < slots) {
      Thread.sleep(1);
    }
    StringBuilder line = new StringBuilder("BENCH " + slots + " tasks published together, started after (ms):");
    startedNanos.entrySet().stream().filter(e -> e.getKey().startsWith("together/")).mapToLong(Map.Entry::getValue)
        .sorted().forEach(t -> line.append(String.format(" %.1f", (t - together) / 1e6)));
    System.out.println(line);
    loops.forEach(TaskLoop::close);
    events.interrupt();
    System.exit(0);
  }

  private static void publish(InProcessBus bus, FarmKeys keys, String build, String stage, long sleepMs) {
    StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setBuildId(build)
        .setStageId(stage).setAttempt(1).setStageName("sleep:" + sleepMs).build();
    bus.tasks().publish(Topics.TASKS, SignedRecord.sign(keys, FarmKeys.Purpose.TASK, build + "/" + stage,
        task.toByteArray()));
  }
}
