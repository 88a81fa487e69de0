package dev.stagefarm.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apache Kafka's own KRaft broker, in this JVM: one node that is both broker and controller, with
 * replication factor 1 for every internal topic (offsets, transactions, share-group state). Used by
 * {@code stagefarm up} and by tests; production farms run a real cluster.
 *
 * <p>Share groups (KIP-932) are on by default in Kafka 4.4. The share-group timings a test wants
 * short (record lock, heartbeat, session) are broker settings here; see {@link Settings}.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final KafkaRaftServer server;
  private final String bootstrapServers;
  private final Authentication authentication;

  private EmbeddedKafka(KafkaRaftServer server, String bootstrapServers, Authentication authentication) {
    this.server = server;
    this.bootstrapServers = bootstrapServers;
    this.authentication = authentication;
  }

  /**
   * A broker that authenticates every connection with SASL/PLAIN (over plain TCP: loopback tests
   * only) and authorizes it with KRaft's {@code StandardAuthorizer}: the super user may do
   * anything, every other user only what an ACL grants ({@code allow.everyone.if.no.acl.found=false}).
   * The broker and its controller talk to each other as the super user.
   *
   * @param superUser the super user's name (the broker's own identity and the admin's)
   * @param passwords every user's password, the super user's included
   */
  public record Authentication(String superUser, Map<String, String> passwords) {
    public Authentication {
      passwords = Map.copyOf(passwords);
      if (!passwords.containsKey(superUser)) {
        throw new IllegalArgumentException("no password for the super user " + superUser);
      }
      passwords.forEach((user, password) -> {
        if (!user.matches("[A-Za-z0-9._-]+") || !password.matches("[A-Za-z0-9._-]+")) {
          throw new IllegalArgumentException("user names and passwords are [A-Za-z0-9._-]+ (JAAS quoting): " + user);
        }
      });
    }

    /** The super user {@code admin} and the given users, each with a fresh random password. */
    public static Authentication withRandomPasswords(String superUser, String... users) {
      Map<String, String> passwords = new LinkedHashMap<>();
      passwords.put(superUser, randomPassword());
      for (String user : users) {
        passwords.put(user, randomPassword());
      }
      return new Authentication(superUser, passwords);
    }

    /** The Kafka client settings with which {@code user} connects. */
    public Map<String, String> clientProperties(String user) {
      String password = passwords.get(user);
      if (password == null) {
        throw new IllegalArgumentException("no such user on this broker: " + user);
      }
      return Map.of(
          "security.protocol", "SASL_PLAINTEXT",
          "sasl.mechanism", "PLAIN",
          "sasl.jaas.config", jaas(user, password, Map.of()));
    }

    private String brokerJaas() {
      return jaas(superUser, passwords.get(superUser), passwords);
    }

    private static String jaas(String user, String password, Map<String, String> users) {
      StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required")
          .append(" username=\"").append(user).append("\" password=\"").append(password).append('"');
      users.forEach((u, p) -> jaas.append(" user_").append(u).append("=\"").append(p).append('"'));
      return jaas.append(';').toString();
    }

    private static String randomPassword() {
      byte[] bytes = new byte[18];
      new java.security.SecureRandom().nextBytes(bytes);
      return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).replace('-', '.');
    }

    @Override
    public String toString() {
      return "Authentication[superUser=" + superUser + ", users=" + passwords.keySet() + "]"; // never passwords
    }
  }

  /**
   * Broker timings. {@link #defaults()} keeps Kafka's production values except for the initial
   * rebalance delay; {@link #forTests()} shortens what makes share-group tests slow.
   *
   * @param recordLockDuration how long a share-group record stays locked to one consumer
   * @param minRecordLockDuration the lower bound a group config may set for the lock
   * @param shareHeartbeatInterval how often share consumers heartbeat the group coordinator
   * @param shareSessionTimeout after how long without a heartbeat a member leaves the group
   * @param extra any further broker properties (win over everything above)
   */
  public record Settings(
      Duration recordLockDuration,
      Duration minRecordLockDuration,
      Duration shareHeartbeatInterval,
      Duration shareSessionTimeout,
      Map<String, String> extra) {
    public Settings {
      extra = Map.copyOf(extra);
    }

    public static Settings defaults() {
      return new Settings(
          Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofSeconds(5), Duration.ofSeconds(45), Map.of());
    }

    /** Short locks and heartbeats: a lost consumer's records come back within seconds. */
    public static Settings forTests() {
      return new Settings(
          Duration.ofSeconds(6), Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(6), Map.of());
    }

    public Settings withExtra(Map<String, String> more) {
      Map<String, String> merged = new LinkedHashMap<>(extra);
      merged.putAll(more);
      return new Settings(recordLockDuration, minRecordLockDuration, shareHeartbeatInterval, shareSessionTimeout, merged);
    }
  }

  /** Starts a broker with {@link Settings#defaults()}; {@code port} 0 picks a free port. */
  public static EmbeddedKafka start(Path dataDir, int port) {
    return start(dataDir, port, Settings.defaults());
  }

  /**
   * Formats {@code dataDir} when it is empty (a restarted farm keeps its topics) and starts the
   * broker; returns once it accepts connections.
   */
  public static EmbeddedKafka start(Path dataDir, int port, Settings settings) {
    return start(dataDir, port, settings, null);
  }

  /**
   * As {@link #start(Path, int, Settings)}; with {@code authentication} (null: none) every client
   * must log in and is allowed only what ACLs grant.
   */
  public static EmbeddedKafka start(Path dataDir, int port, Settings settings, Authentication authentication) {
    try {
      Files.createDirectories(dataDir);
      int brokerPort = port == 0 ? freePort() : port;
      int controllerPort = freePort();
      Properties props = brokerProperties(dataDir.resolve("log"), brokerPort, controllerPort, settings);
      if (authentication != null) {
        props.putAll(authenticationProperties(brokerPort, controllerPort, authentication));
      }
      Path propsFile = dataDir.resolve("server.properties");
      try (var out = Files.newOutputStream(propsFile)) {
        props.store(out, "stagefarm embedded Kafka");
      }
      if (!Files.exists(dataDir.resolve("log").resolve("meta.properties"))) {
        format(propsFile);
      }
      KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      server.startup();
      String bootstrap = "127.0.0.1:" + brokerPort;
      awaitListening(brokerPort, Duration.ofSeconds(30));
      log.info("embedded Kafka listening on {}{}", bootstrap, authentication == null ? "" : " (SASL/PLAIN, ACLs)");
      return new EmbeddedKafka(server, bootstrap, authentication);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded Kafka broker in " + dataDir, e);
    }
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The Kafka client settings with which {@code user} connects; empty for a broker without authentication. */
  public Map<String, String> clientProperties(String user) {
    return authentication == null ? Map.of() : authentication.clientProperties(user);
  }

  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  /** Stops the broker (idempotent: a test and a JVM shutdown hook may both call it). */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    server.shutdown();
    server.awaitShutdown();
  }

  private static Properties brokerProperties(Path logDir, int brokerPort, int controllerPort, Settings s) {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    p.put("num.partitions", "1");
    // one node: every internal topic has one replica, and few partitions start faster
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("share.coordinator.state.topic.num.partitions", "4");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("auto.create.topics.enable", "false");
    p.put("group.share.record.lock.duration.ms", millis(s.recordLockDuration()));
    p.put("group.share.min.record.lock.duration.ms", millis(s.minRecordLockDuration()));
    p.put("group.share.heartbeat.interval.ms", millis(s.shareHeartbeatInterval()));
    p.put("group.share.min.heartbeat.interval.ms", millis(min(s.shareHeartbeatInterval(), Duration.ofSeconds(5))));
    p.put("group.share.session.timeout.ms", millis(s.shareSessionTimeout()));
    p.put("group.share.min.session.timeout.ms", millis(min(s.shareSessionTimeout(), Duration.ofSeconds(45))));
    p.put("group.share.assignment.interval.ms", "100");
    p.put("group.consumer.heartbeat.interval.ms", millis(min(s.shareHeartbeatInterval(), Duration.ofSeconds(5))));
    p.put("group.consumer.min.heartbeat.interval.ms", millis(min(s.shareHeartbeatInterval(), Duration.ofSeconds(5))));
    p.putAll(s.extra());
    return p;
  }

  private static Map<String, String> authenticationProperties(int brokerPort, int controllerPort, Authentication auth) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("listeners", "BROKER://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "BROKER://127.0.0.1:" + brokerPort);
    p.put("inter.broker.listener.name", "BROKER");
    p.put("listener.security.protocol.map", "BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT");
    p.put("sasl.enabled.mechanisms", "PLAIN");
    p.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
    p.put("sasl.mechanism.controller.protocol", "PLAIN");
    p.put("listener.name.broker.plain.sasl.jaas.config", auth.brokerJaas());
    p.put("listener.name.controller.plain.sasl.jaas.config", auth.brokerJaas());
    p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    p.put("super.users", "User:" + auth.superUser());
    p.put("allow.everyone.if.no.acl.found", "false");
    return p;
  }

  private static void format(Path propsFile) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    String[] args = {"format", "-t", Uuid.randomUuid().toString(), "-c", propsFile.toString()};
    int rc;
    try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
      rc = StorageTool.execute(args, out);
    } catch (RuntimeException e) {
      throw new IllegalStateException("formatting Kafka storage failed: " + e.getMessage(), e);
    }
    if (rc != 0) {
      throw new IllegalStateException(
          "formatting Kafka storage failed (exit " + rc + "): " + buffer.toString(StandardCharsets.UTF_8).strip());
    }
  }

  private static void awaitListening(int port, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        sleep(50);
      }
    }
    throw new IllegalStateException("embedded Kafka did not listen on port " + port + " within " + timeout);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static String millis(Duration d) {
    return Long.toString(d.toMillis());
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Kafka", e);
    }
  }
}
