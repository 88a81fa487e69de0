package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.KafkaFixture;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.S3Fixture;
import dev.stagefarm.testkit.TempDirectories;
import dev.stagefarm.worker.Worker;
import dev.stagefarm.worker.config.WorkerConfigLoader;
import dev.stagefarm.worker.kafka.FarmTopics;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A distributed farm on a Kafka broker with SASL authentication and ACLs on (nothing allowed
 * without an ACL): the ACLs come from {@code stagefarm admin kafka-acls --apply}, the coordinator and
 * the worker connect as their own principals from their {@code kafka-properties} files and sign
 * with their own role keys ({@code stagefarm admin farm-keys}), and a build runs end to end (runc, S3).
 */
class KafkaAuthEndToEndTest {
  private static final EmbeddedKafka.Authentication USERS =
      EmbeddedKafka.Authentication.withRandomPasswords("admin", "coordinator", "worker");
  private static EmbeddedKafka kafka;
  private static Path dir;

  @BeforeAll
  static void brokerWithAuthentication() {
    kafka = KafkaFixture.startWithAuthentication(USERS);
    dir = TempDirectories.createDeletedAtExit("stagefarm-kafka-auth-");
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void aBuildSucceedsWithTheCoordinatorAndWorkerAsTheirOwnPrincipals() throws Exception {
    String bootstrap = kafka.bootstrapServers();
    assertThat(Main.execute("admin", "kafka-acls", "--apply", "--kafka", bootstrap,
        "--kafka-properties", propertiesFile("admin").toString())).isZero();
    KafkaClientProperties coordinatorSecurity = KafkaClientProperties.load(propertiesFile("coordinator"));
    FarmTopics.ensure(bootstrap, coordinatorSecurity, FarmTopics.Layout.singleBroker()); // as `stagefarm coordinator`

    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    S3Config s3 = S3Fixture.newBucket("kafka-auth");
    // role keys: the coordinator signs tasks with a key the worker does not hold, and vice versa
    assertThat(Main.execute("admin", "farm-keys", "--out", dir.resolve("keys").toString())).isZero();
    FarmKeys coordinatorKeys = FarmKeys.load(dir.resolve("keys/coordinator.key")).requireFor(FarmKeys.Part.COORDINATOR);

    Worker worker = new Worker(WorkerConfigLoader.load(null, Map.of(), Map.of(
        "kafka", bootstrap,
        "kafka-properties", propertiesFile("worker").toString(),
        "create-topics", "false",
        "s3", s3.endpoint(),
        "s3-access-key", s3.accessKey(),
        "s3-secret-key", s3.secretKey(),
        "bucket", s3.bucket(),
        "work-dir", dir.resolve("worker").toString(),
        "worker-id", "worker-sasl",
        "farm-key-file", dir.resolve("keys/worker.key").toString()))).start();
    try (worker;
        BlobStore store = BlobStore.connect(s3);
        RegistryClient registryClient = new RegistryClient(registry.settings());
        CoordinatorNode coordinator = CoordinatorNode.start(
            new CoordinatorNode.Options(bootstrap, "stagefarm-coordinator",
                new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(20), 3), Duration.ofMillis(500)),
                coordinatorKeys, coordinatorSecurity),
            store, registryClient, new StoreImageExporter(store), InProcessServerBuilder.forName("kafka-auth"))) {
      Path context = Files.createDirectories(dir.resolve("context"));
      Files.writeString(context.resolve("Dockerfile"), "FROM %s\nRUN echo through-sasl > /x\n".formatted(busybox));
      ScannedContext scanned = ContextScanner.scan(context);
      ManagedChannel channel = InProcessChannelBuilder.forName("kafka-auth").build();
      try {
        BuildClient client = new BuildClient(channel, "kafka-auth");
        client.upload(scanned);
        BuildStatus submitted = client.submit(SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFrom(Files.readAllBytes(context.resolve("Dockerfile"))))
            .setDockerfileName("Dockerfile")
            .setContextManifest(scanned.manifestDigest().toString())
            .setNoCache(true)
            .build());

        BuildStatus done = client.watch(submitted.getBuildId(), progress -> {});

        assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
        assertThat(coordinator.unauthenticatedEvents()).isZero();
      } finally {
        channel.shutdownNow();
      }
    }
  }

  /** A {@code kafka-properties} file with {@code user}'s SASL settings, as an operator would write it. */
  private static Path propertiesFile(String user) throws Exception {
    Path file = dir.resolve(user + ".properties");
    Properties properties = new Properties();
    properties.putAll(USERS.clientProperties(user));
    try (var out = Files.newOutputStream(file)) {
      properties.store(out, "stagefarm " + user);
    }
    return file;
  }
}
