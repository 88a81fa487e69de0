package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leadership among a farm's coordinators: each is a member of one consumer group on the
 * single-partition {@link Topics#LEADER} topic, and the member Kafka assigns that partition to is
 * the active coordinator. Assignment is sticky (a live leader keeps it when standbys join or
 * leave); when the leader dies its session expires and the group coordinator hands the partition
 * to a standby within about {@code session} plus a rebalance.
 *
 * <p>Kafka's group membership decides who <em>should</em> lead; it cannot stop a leader that was
 * cut off and does not know it yet. That is the {@link FencedProducer}'s job: the new leader takes
 * over the farm's transactional id, and every later write of the old one fails.
 *
 * <p>The active coordinator also writes its client address to the topic (key = the group), so a
 * standby can tell clients where the leader is ({@link #announcedLeader()}).
 */
public final class KafkaLeaderElection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaLeaderElection.class);
  private static final TopicPartition PARTITION = new TopicPartition(Topics.LEADER, 0);
  private static final long ANNOUNCEMENT_CACHE_MS = 1000;

  /** Called on the election's own thread, one at a time. */
  public interface Listener {
    /** This coordinator is now the leader: take over (fence, replay, resume). */
    void elected();

    /** This coordinator is no longer the leader: stop at once. */
    void deposed();
  }

  private final String bootstrapServers;
  private final String group;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Listener listener;
  private final Thread thread;
  private final CountDownLatch joined = new CountDownLatch(1);
  private final KafkaClientProperties security;
  private volatile boolean running = true;
  private volatile boolean leader;
  /** When the election's loop last polled (System.nanoTime); 0 before it started. */
  private volatile long lastPollNanos;
  private String cachedLeader = "";
  private long cachedAtMs;

  /**
   * @param group the coordinators' group: the same for every coordinator of one farm
   * @param session how long a silent leader keeps leadership (the broker's {@code
   *     group.min.session.timeout.ms}, 6 s by default, is the lower bound)
   */
  public KafkaLeaderElection(String bootstrapServers, String group, Duration session, Listener listener) {
    this(bootstrapServers, KafkaClientProperties.none(), group, session, listener);
  }

  /** @param security the coordinator's Kafka SASL/TLS settings */
  public KafkaLeaderElection(String bootstrapServers, KafkaClientProperties security, String group, Duration session,
      Listener listener) {
    this.bootstrapServers = bootstrapServers;
    this.security = security;
    this.group = group;
    this.listener = listener;
    this.consumer = KafkaClients.electionConsumer(bootstrapServers, security, group, "stagefarm-coordinator-election",
        session);
    this.thread = Thread.ofPlatform().daemon().name("stagefarm-election").unstarted(this::loop);
  }

  /** Joins the group; returns once the first assignment is known (leader or standby), or after {@code wait}. */
  public KafkaLeaderElection start(Duration wait) throws InterruptedException {
    thread.start();
    if (!joined.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
      log.warn("no leadership decision within {}s: is Kafka reachable at {}?", wait.toSeconds(), bootstrapServers);
    }
    return this;
  }

  public boolean isLeader() {
    return leader;
  }

  /**
   * How long ago the election's loop last polled, or empty when it is not running (not started,
   * closed, or stopped on an error). A take-over runs on this loop, so a long gap is one of those
   * or a stuck thread.
   */
  public Optional<Duration> sinceLastPoll() {
    long last = lastPollNanos;
    if (!thread.isAlive() || last == 0) {
      return Optional.empty();
    }
    return Optional.of(Duration.ofNanos(System.nanoTime() - last));
  }

  private void loop() {
    try {
      consumer.subscribe(List.of(Topics.LEADER), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          if (partitions.contains(PARTITION) && !leader) {
            leader = true;
            log.info("elected the active coordinator (group {})", group);
            listener.elected();
          }
          joined.countDown();
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          depose(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
          depose(partitions);
        }
      });
      while (running) {
        lastPollNanos = System.nanoTime();
        consumer.poll(Duration.ofMillis(200)); // heartbeats, rebalances; the records are read elsewhere
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      log.error("leader election stopped", e);
    } finally {
      if (leader) {
        leader = false;
        listener.deposed();
      }
      consumer.close(Duration.ofSeconds(5)); // leaves the group: a standby takes over at once
    }
  }

  private void depose(Collection<TopicPartition> partitions) {
    if (partitions.contains(PARTITION) && leader) {
      leader = false;
      log.warn("no longer the active coordinator (group {})", group);
      listener.deposed();
    }
  }

  /** The record that tells standbys (and through them clients) the leader's address. */
  public ProducerRecord<String, byte[]> announcement(String address) {
    return new ProducerRecord<>(Topics.LEADER, 0, group, address.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The address the current leader announced, read from the topic (committed records only; cached
   * for a second), or empty when none is known.
   */
  public synchronized Optional<String> announcedLeader() {
    long now = System.currentTimeMillis();
    if (now - cachedAtMs < ANNOUNCEMENT_CACHE_MS) {
      return cachedLeader.isEmpty() ? Optional.empty() : Optional.of(cachedLeader);
    }
    String latest = "";
    try (KafkaConsumer<String, byte[]> reader =
        KafkaClients.consumer(bootstrapServers, security, null, "stagefarm-coordinator-leader-reader")) {
      reader.assign(List.of(PARTITION));
      reader.seekToBeginning(List.of(PARTITION));
      long end = reader.endOffsets(List.of(PARTITION), Duration.ofSeconds(5)).get(PARTITION);
      long deadline = now + 5000;
      while (reader.position(PARTITION, Duration.ofSeconds(5)) < end && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
          if (group.equals(record.key()) && record.value() != null) {
            latest = new String(record.value(), StandardCharsets.UTF_8);
          }
        }
      }
    } catch (KafkaException e) {
      log.debug("reading the leader's address failed: {}", e.toString());
    }
    cachedLeader = latest;
    cachedAtMs = now;
    return latest.isEmpty() ? Optional.empty() : Optional.of(latest);
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
