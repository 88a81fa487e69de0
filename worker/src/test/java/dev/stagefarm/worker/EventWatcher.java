package dev.stagefarm.worker;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads stagefarm.events from the current end on, for tests: collect, then wait for a condition. */
public final class EventWatcher implements AutoCloseable {
  private final KafkaConsumer<String, byte[]> consumer;
  private final List<StageEvent> events = new CopyOnWriteArrayList<>();

  public EventWatcher(String bootstrap) {
    this(bootstrap, java.util.Map.of());
  }

  /** @param security client settings (SASL) of the principal this watcher reads as */
  public EventWatcher(String bootstrap, java.util.Map<String, String> security) {
    Properties props = new Properties();
    props.putAll(security);
    props.put("bootstrap.servers", bootstrap);
    props.put("enable.auto.commit", "false");
    consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = consumer.partitionsFor(Topics.EVENTS).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition()))
        .toList();
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    partitions.forEach(consumer::position); // resolve the end offsets now, before tasks are published
  }

  /** Polls until an event matching {@code until} arrived (returns it) or the timeout passed (throws). */
  public StageEvent await(Predicate<StageEvent> until, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (StageEvent e : events) {
      if (until.test(e)) {
        return e;
      }
    }
    while (System.nanoTime() < deadline) {
      // keep the whole batch before answering: returning at the first match used to drop the
      // records after it, which a later await then waited for in vain (two workers finishing at once)
      StageEvent found = null;
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
        StageEvent e;
        try {
          e = StageEvent.parseFrom(r.value());
        } catch (InvalidProtocolBufferException ex) {
          throw new AssertionError("unreadable event", ex);
        }
        events.add(e);
        if (found == null && until.test(e)) {
          found = e;
        }
      }
      if (found != null) {
        return found;
      }
    }
    throw new AssertionError("no matching event within " + timeout + "; saw " + summary() + stageThreads());
  }

  /**
   * The stacks of this JVM's stage threads (virtual, so only {@code jcmd Thread.dump_to_file}
   * shows them): when a stage never reports, where it is stuck is the first thing to know.
   */
  private static String stageThreads() {
    try {
      java.nio.file.Path dump = java.nio.file.Files.createTempFile("stagefarm-threads-", ".txt");
      java.nio.file.Files.delete(dump);
      Process jcmd = new ProcessBuilder(
          java.nio.file.Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
          Long.toString(ProcessHandle.current().pid()), "Thread.dump_to_file", "-format=text", dump.toString())
          .redirectErrorStream(true).start();
      jcmd.getInputStream().readAllBytes();
      if (!jcmd.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || !java.nio.file.Files.exists(dump)) {
        return "\n(no thread dump)";
      }
      StringBuilder stages = new StringBuilder("\nstage threads:");
      for (String block : java.nio.file.Files.readString(dump).split("\n\n")) {
        if (block.contains("\"stage-")) {
          stages.append("\n").append(block);
        }
      }
      java.nio.file.Files.deleteIfExists(dump);
      return stages.toString();
    } catch (java.io.IOException | InterruptedException e) {
      return "\n(no thread dump: " + e + ")";
    }
  }

  /** Keeps polling for {@code duration}, collecting events (to prove something did NOT happen). */
  public void drain(Duration duration) {
    long deadline = System.nanoTime() + duration.toNanos();
    while (System.nanoTime() < deadline) {
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
        try {
          events.add(StageEvent.parseFrom(r.value()));
        } catch (InvalidProtocolBufferException ex) {
          throw new AssertionError("unreadable event", ex);
        }
      }
    }
  }

  public List<StageEvent> events(Predicate<StageEvent> filter) {
    return new ArrayList<>(events.stream().filter(filter).toList());
  }

  public static Predicate<StageEvent> of(String buildId, StageEvent.KindCase kind) {
    return e -> e.getBuildId().equals(buildId) && e.getKindCase() == kind;
  }

  private String summary() {
    return events.stream()
        .filter(e -> !e.hasHeartbeat())
        .map(e -> e.getBuildId() + "/" + e.getStageId() + ":" + e.getKindCase() + "@" + e.getWorkerId()
            + (e.hasFailed() ? "(" + e.getFailed().getMessage() + ")" : ""))
        .toList() + " and " + events.stream().filter(StageEvent::hasHeartbeat).count() + " heartbeats";
  }

  @Override
  public void close() {
    consumer.close();
  }
}
