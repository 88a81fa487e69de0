package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageEvent.KindCase;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.testkit.KafkaFixture;
import dev.stagefarm.worker.EventWatcher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A measurement, not a test (bench/README.md, "Session 6 (issue 12): claiming"): one worker
 * with {@code slots} slots on an in-JVM broker; prints this JVM's CPU (broker and worker) over an
 * idle window, then when each of {@code slots} tasks published together was started. Run with the
 * worker's test classpath: {@code java -cp ... dev.stagefarm.worker.kafka.IdleSlotsBench 8 20}.
 */
public final class IdleSlotsBench {
  private IdleSlotsBench() {}

  public static void main(String[] args) throws Exception {
    int slots = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    long idleSeconds = args.length > 1 ? Long.parseLong(args[1]) : 20;
    String bootstrap = KafkaFixture.bootstrapServers();
    FarmTopics.ensure(bootstrap, FarmTopics.Layout.singleBroker());
    FarmKeys keys = FarmKeys.generate();
    TaskSlot.Settings settings = new TaskSlot.Settings(bootstrap, Topics.WORKER_SHARE_GROUP, "bench-worker",
        Duration.ofMillis(500), Duration.ZERO, Duration.ofSeconds(10), Duration.ZERO, keys);
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = new TaskLoop(settings, slots, Duration.ofSeconds(5), new SleepingRunner("bench-worker")).start()) {
      Thread.sleep(15_000); // every slot has joined the share group
      long cpu0 = cpuTicks();
      Thread.sleep(idleSeconds * 1000);
      long cpu1 = cpuTicks();
      System.out.printf("BENCH idle %d s, %d slots: %.2f s CPU (this JVM: broker and worker)%n", idleSeconds, slots,
          (cpu1 - cpu0) / 100.0);
      String build = "bench-" + UUID.randomUUID();
      try (var producer = new KafkaProducer<String, byte[]>(Map.of("bootstrap.servers", bootstrap),
          new StringSerializer(), new ByteArraySerializer())) {
        for (int i = 0; i < slots; i++) {
          StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setBuildId(build)
              .setStageId("s" + i).setAttempt(1).setStageName("sleep:6000").build();
          producer.send(FarmMacs.sign(keys, FarmKeys.Purpose.TASK,
              new ProducerRecord<>(Topics.TASKS, build, task.toByteArray())));
        }
        producer.flush();
      }
      long published = System.currentTimeMillis();
      for (int i = 0; i < slots; i++) {
        String stage = "s" + i;
        watcher.await(e -> EventWatcher.of(build, KindCase.COMPLETED).test(e) && e.getStageId().equals(stage),
            Duration.ofSeconds(120));
      }
      List<StageEvent> started = watcher.events(EventWatcher.of(build, KindCase.STARTED));
      long first = started.stream().mapToLong(StageEvent::getTimestampMs).min().orElse(published);
      // after the first start: the producer's close under load makes "published" late
      StringBuilder line = new StringBuilder("BENCH started (s after the first start; a redelivery shows twice):");
      for (StageEvent e : started) {
        line.append(String.format(" %.2f", (e.getTimestampMs() - first) / 1000.0));
      }
      System.out.println(line);
    }
    System.exit(0);
  }

  /** utime + stime of this process, in clock ticks (1/100 s). */
  static long cpuTicks() throws java.io.IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
