package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.testkit.KafkaFixture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A measurement of Kafka itself, not a test (bench/README.md, "Session 6 (issue 12): claiming"):
 * {@code consumers} share consumers of one new topic ({@code record_limit}, one record per poll,
 * {@code fetch.max.wait.ms} = {@code waitMs}) are parked when 8 records are published together;
 * prints when each consumer took one. Were a parked share fetch completed when records arrive,
 * the takes would come at once whatever the wait. Arguments: waitMs consumers transactional
 * isolation, e.g. {@code 5000 8 true read_committed}.
 */
public final class ShareFetchProbe {
  private static volatile boolean stop;

  private ShareFetchProbe() {}

  public static void main(String[] args) throws Exception {
    long waitMs = Long.parseLong(args[0]);
    int consumers = Integer.parseInt(args[1]);
    boolean transactional = Boolean.parseBoolean(args[2]);
    String isolation = args[3];
    String bootstrap = KafkaFixture.bootstrapServers();
    String topic = "probe-" + UUID.randomUUID();
    String group = "probe-" + UUID.randomUUID();
    try (Admin admin = FarmTopics.admin(bootstrap, KafkaClientProperties.none())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
      admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), List.of(
          new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET),
          new AlterConfigOp(new ConfigEntry("share.isolation.level", isolation), AlterConfigOp.OpType.SET))))
          .all().get();
    }
    ConcurrentLinkedQueue<String> takes = new ConcurrentLinkedQueue<>();
    CountDownLatch polling = new CountDownLatch(consumers);
    long[] publishedAt = {Long.MAX_VALUE};
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < consumers; i++) {
      String name = "c" + i;
      threads.add(Thread.ofPlatform().start(() -> consume(bootstrap, group, topic, waitMs, name, polling, takes,
          publishedAt)));
    }
    polling.await();
    Thread.sleep(6000); // every consumer has joined and has a fetch parked
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    if (transactional) {
      props.put("transactional.id", "probe-" + UUID.randomUUID());
    }
    try (var producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      if (transactional) {
        producer.initTransactions();
        producer.beginTransaction();
      }
      for (int i = 0; i < 8; i++) {
        producer.send(new ProducerRecord<>(topic, "t" + i));
      }
      producer.flush();
      publishedAt[0] = System.currentTimeMillis();
      if (transactional) {
        producer.commitTransaction();
      }
    }
    Thread.sleep(Math.max(4000, 2 * waitMs));
    stop = true;
    for (Thread t : threads) {
      t.join(20_000);
    }
    System.out.printf("PROBE wait %d ms, %d consumers, transactional %s, %s:%n", waitMs, consumers, transactional,
        isolation);
    takes.forEach(t -> System.out.println("PROBE " + t));
    System.exit(0);
  }

  /** Polls until a record comes, then holds it (RENEW) until the probe ends. */
  private static void consume(String bootstrap, String group, String topic, long waitMs, String name,
      CountDownLatch polling, ConcurrentLinkedQueue<String> takes, long[] publishedAt) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("group.id", group);
    p.put("share.acknowledgement.mode", "explicit");
    p.put("share.acquire.mode", "record_limit");
    p.put("max.poll.records", "1");
    p.put("fetch.max.wait.ms", Long.toString(waitMs));
    try (var c = new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(topic));
      ConsumerRecord<String, String> held = null;
      boolean counted = false;
      while (!stop) {
        if (held != null) {
          c.acknowledge(held, AcknowledgeType.RENEW);
        }
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          if (held == null) {
            held = r;
            takes.add(String.format("%s took %s at +%d ms", name, r.value(), System.currentTimeMillis() - publishedAt[0]));
          }
        }
        if (!counted) {
          polling.countDown();
          counted = true;
        }
      }
      if (held != null) {
        c.acknowledge(held, AcknowledgeType.ACCEPT);
        c.commitSync();
      }
    }
  }
}
