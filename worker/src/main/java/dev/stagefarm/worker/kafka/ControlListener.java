package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code stagefarm.control} on its own thread, as a plain consumer without a group (every
 * worker sees every message), starting {@code lookback} in the past so a worker that starts (or
 * restarts after a crash) knows the builds that ended meanwhile. Messages without a valid farm
 * MAC are ignored (by the reader, {@link TaskLoop}): whoever can write the topic must not be able to cancel other
 * people's builds.
 */
final class ControlListener implements dev.stagefarm.worker.transport.ControlFeed {
  private static final Logger log = LoggerFactory.getLogger(ControlListener.class);
  /**
   * The poll timeout. It does not delay a cancel: the broker answers a parked fetch as soon as a
   * message arrives (fetch.min.bytes 1); it only bounds how often an idle listener asks (each
   * fetch waits up to {@link #FETCH_MAX_WAIT}).
   */
  static final Duration POLL = Duration.ofSeconds(1);
  /**
   * How long the broker parks an idle listener's fetch (Kafka's default: 500 ms). A message completes a
   * parked fetch at once, so this costs no latency; it only sets how often an idle listener asks: with
   * {@code --workers 8}, 16 fetches a second at 500 ms, 1.6 at 5 s (runpath, session 8).
   */
  static final Duration FETCH_MAX_WAIT = Duration.ofSeconds(5);

  private final KafkaConsumer<String, byte[]> consumer;
  private final Consumer<Message> onMessage;
  private final Duration lookback;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean closing;
  private Map<TopicPartition, Long> startEnd = Map.of();

  ControlListener(String bootstrap, dev.stagefarm.program.KafkaClientProperties security, String clientId,
      Duration lookback, Consumer<Message> onMessage) {
    this.lookback = lookback;
    this.onMessage = onMessage;
    Properties props = new Properties();
    props.putAll(security.asMap());
    props.put("bootstrap.servers", bootstrap);
    props.put("client.id", clientId);
    props.put("enable.auto.commit", "false");
    props.put("auto.offset.reset", "latest");
    props.put("fetch.max.wait.ms", Long.toString(FETCH_MAX_WAIT.toMillis()));
    this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    this.thread = Thread.ofPlatform().daemon().name(clientId).unstarted(this::run);
  }

  @Override
  public ControlListener start() {
    thread.start();
    return this;
  }

  /** Waits until the messages that were on the topic at start are applied; false on timeout. */
  @Override
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void run() {
    try {
      assignFromLookback();
      while (!closing) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
          handle(record);
        }
        if (caughtUp.getCount() > 0 && reachedStartEnd()) {
          caughtUp.countDown();
        }
      }
    } catch (WakeupException stopping) {
      // close()
    } catch (RuntimeException e) {
      log.error("control listener stopped: {}; cancels and superseded attempts no longer reach this worker",
          e.toString(), e);
    } finally {
      caughtUp.countDown();
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void assignFromLookback() {
    List<PartitionInfo> infos = consumer.partitionsFor(Topics.CONTROL, Duration.ofSeconds(30));
    List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    consumer.assign(partitions);
    long since = System.currentTimeMillis() - lookback.toMillis();
    Map<TopicPartition, Long> query = new HashMap<>();
    partitions.forEach(p -> query.put(p, since));
    Map<TopicPartition, OffsetAndTimestamp> offsets = consumer.offsetsForTimes(query, Duration.ofSeconds(30));
    startEnd = consumer.endOffsets(partitions, Duration.ofSeconds(30));
    for (TopicPartition partition : partitions) {
      OffsetAndTimestamp at = offsets.get(partition);
      if (at != null) {
        consumer.seek(partition, at.offset());
      } else {
        consumer.seekToEnd(List.of(partition)); // nothing that recent
      }
    }
  }

  private boolean reachedStartEnd() {
    return startEnd.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
  }

  private void handle(ConsumerRecord<String, byte[]> record) {
    onMessage.accept(new Message(record.offset(), record.value(), name -> {
      var header = record.headers().lastHeader(name);
      return header == null ? null : header.value();
    }));
  }

  @Override
  public void close() {
    closing = true;
    consumer.wakeup();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
