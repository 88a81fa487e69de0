package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.Result;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm build --secret} through the real farm (Kafka, S3, coordinator, runc workers), as
 * docs/security.md "Build secrets" promises: a RUN reads the secrets its own build's client sent
 * (from a file and from an environment variable of a real client process), a RUN that prints one
 * shows {@code ****}, another build that names the id without sending it does not get it, and
 * afterwards no Kafka record, no object in the bucket and no layer holds a value.
 */
class SecretsEndToEndTest {

  @Test
  void aBuildReadsItsClientsSecretsWhichNoRecordObjectOrLayerKeeps(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    String fileValue = "file-secret-" + UUID.randomUUID();
    String envValue = "env-secret-" + UUID.randomUUID();
    Path secretFile = Files.writeString(dir.resolve("token.txt"), fileValue);
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    // the Dockerfile (and so the task) holds only hashes of the values; the RUN prints the values
    String nonce = UUID.randomUUID().toString();
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN --mount=type=secret,id=filetok --mount=type=secret,id=envtok,env=ENVTOK,required \\
            echo "%s" && echo "file says $(cat /run/secrets/filetok)" && echo "env says $ENVTOK" >&2 \\
            && sha256sum /run/secrets/filetok | cut -c1-64 > /file.sha \\
            && printf %%s "$ENVTOK" | sha256sum | cut -c1-64 > /env.sha && sleep 3
        """.formatted(FarmUnderTest.busybox(), nonce));

    MinioClient s3 = MinioClient.builder().endpoint(farm.s3Endpoint())
        .credentials(EmbeddedS3.DEFAULT_ACCESS_KEY, EmbeddedS3.DEFAULT_SECRET_KEY).build();
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "build",
        "--coordinator", farm.endpoint(), "--progress", "plain",
        "--secret", "id=filetok,src=" + secretFile, "--secret", "id=envtok,env=SF_E2E_TOKEN", ctx.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("client.out").toFile());
    builder.environment().put("SF_E2E_TOKEN", envValue); // a real client process with the variable set
    Process client = builder.start();

    // while the RUN sleeps, the build's secrets wait sealed in the bucket
    Optional<byte[]> sealed = Optional.empty();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (sealed.isEmpty() && client.isAlive() && System.nanoTime() < deadline) {
      sealed = objects(s3, "secrets/").values().stream().findFirst();
      Thread.sleep(100);
    }
    assertThat(client.waitFor(180, TimeUnit.SECONDS)).isTrue();
    String output = Files.readString(dir.resolve("client.out"));
    System.err.println("--- client with --secret →\n" + output);
    assertThat(client.exitValue()).as(output).isZero();
    assertThat(sealed).as("secrets/<build id> during the build").isPresent();
    assertThat(contains(sealed.get(), fileValue) || contains(sealed.get(), envValue)).isFalse();

    // the RUN got both values; its output shows them masked
    assertThat(output).contains(nonce).contains("file says ****").contains("env says ****")
        .doesNotContain(fileValue).doesNotContain(envValue);
    BuildStatus first = FarmUnderTest.lastBuild();
    assertThat(first.getState()).isEqualTo(BuildState.SUCCEEDED);
    Map<String, byte[]> objects = objects(s3, "");
    assertThat(layerFile(objects, "file.sha")).isEqualTo(sha256(fileValue) + "\n");
    assertThat(layerFile(objects, "env.sha")).isEqualTo(sha256(envValue) + "\n");

    // values do not key the cache (BuildKit): other values, same Dockerfile → the stage is CACHED
    Path otherFile = Files.writeString(dir.resolve("other.txt"), "other-value");
    FarmUnderTest.Result cached = FarmUnderTest.build("--secret", "id=filetok,src=" + otherFile,
        "--secret", "id=envtok,src=" + otherFile, ctx.toString());
    assertThat(cached.exitCode()).as(cached.stderr()).isZero();
    assertThat(FarmUnderTest.lastBuild().getStages(0).getState()).isEqualTo(StageState.STAGE_CACHED);

    // the build ended: its sealed secrets are deleted (asynchronously, right after it finished)
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!objects(s3, "secrets/").isEmpty() && System.nanoTime() < until) {
      Thread.sleep(100);
    }
    assertThat(objects(s3, "secrets/").keySet()).isEmpty();

    // no value in any record of any topic (tasks, events with the RUN's log, the build journal, …)
    for (byte[] record : allKafkaRecords(farm.kafkaBootstrap())) {
      assertThat(contains(record, fileValue) || contains(record, envValue)).as("a Kafka record").isFalse();
    }
    // nor in any object of the bucket, layers decompressed
    for (Map.Entry<String, byte[]> object : objects(s3, "").entrySet()) {
      for (byte[] bytes : List.of(object.getValue(), gunzipped(object.getValue()))) {
        assertThat(contains(bytes, fileValue) || contains(bytes, envValue)).as(object.getKey()).isFalse();
      }
    }
  }

  @Test
  void aBuildThatDoesNotSendTheSecretDoesNotGetItAndFailsWhenItIsRequired(@TempDir Path dir) throws Exception {
    Path secretFile = Files.writeString(dir.resolve("token.txt"), "sent-by-the-first-build-" + UUID.randomUUID());
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    String dockerfile = """
        FROM %s
        RUN --mount=type=secret,id=token%s echo "%s"; cat /run/secrets/token > /seen || echo none > /seen
        """;
    Files.writeString(ctx.resolve("Dockerfile"), dockerfile.formatted(FarmUnderTest.busybox(), "", UUID.randomUUID()));
    assertThat(FarmUnderTest.build("--secret", "id=token,src=" + secretFile, ctx.toString()).exitCode()).isZero();

    // another build naming the same id without sending it: an optional mount is simply absent
    Files.writeString(ctx.resolve("Dockerfile"), dockerfile.formatted(FarmUnderTest.busybox(), "", UUID.randomUUID())
        .replace("> /seen || echo none > /seen", "|| echo absent"));
    FarmUnderTest.Result optional = FarmUnderTest.build(ctx.toString());
    assertThat(optional.exitCode()).as(optional.stderr()).isZero();
    assertThat(optional.stderr()).contains("absent").contains("No such file or directory");

    // ... and a required one fails the build naming the secret and how to send it
    Files.writeString(ctx.resolve("Dockerfile"),
        dockerfile.formatted(FarmUnderTest.busybox(), ",required", UUID.randomUUID()));
    FarmUnderTest.Result required = FarmUnderTest.build(ctx.toString());
    assertThat(required.exitCode()).isNotZero();
    assertThat(required.stderr()).contains("error: Dockerfile:2:")
        .contains("secret token is required but the build did not send it (stagefarm build --secret id=token")
        .doesNotContain("Exception");
    assertThat(FarmUnderTest.lastBuild().getStages(0).getAttempt()).isEqualTo(1);
  }

  @Test
  void badSecretFlagsFailBeforeAnythingIsSent(@TempDir Path ctx) throws Exception {
    Files.writeString(ctx.resolve("Dockerfile"), "FROM scratch\n");
    FarmUnderTest.Result missingFile = FarmUnderTest.build("--secret", "id=a,src=" + ctx.resolve("nope"), ctx.toString());
    assertThat(missingFile.exitCode()).isNotZero();
    assertThat(missingFile.stderr()).contains("error: --secret id=a: file " + ctx.resolve("nope") + " not found");
    FarmUnderTest.Result twice = FarmUnderTest.build("--secret", "id=a,src=" + ctx.resolve("Dockerfile"),
        "--secret", "id=a,src=" + ctx.resolve("Dockerfile"), ctx.toString());
    assertThat(twice.stderr()).contains("error: --secret id=a is given twice");
  }

  // ---- helpers ----

  private static String sha256(String value) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
  }

  private static boolean contains(byte[] haystack, String value) {
    byte[] needle = value.getBytes(StandardCharsets.UTF_8);
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int k = 0; k < needle.length; k++) {
        if (haystack[i + k] != needle[k]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** Every object under {@code prefix} in the farm's bucket, by key. */
  private static Map<String, byte[]> objects(MinioClient s3, String prefix) throws Exception {
    Map<String, byte[]> objects = new java.util.TreeMap<>();
    for (Result<Item> result : s3.listObjects(ListObjectsArgs.builder().bucket(EmbeddedFarm.BUCKET).prefix(prefix)
        .recursive(true).build())) {
      Item item = result.get();
      if (item.isDir()) {
        continue;
      }
      try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(EmbeddedFarm.BUCKET)
          .object(item.objectName()).build())) {
        objects.put(item.objectName(), in.readAllBytes());
      } catch (io.minio.errors.ErrorResponseException gone) {
        // deleted between the listing and the read (the sealed secrets, at the build's end)
      }
    }
    return objects;
  }

  private static byte[] gunzipped(byte[] bytes) {
    if (bytes.length < 2 || (bytes[0] & 0xff) != 0x1f || (bytes[1] & 0xff) != 0x8b) {
      return new byte[0];
    }
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
      return in.readAllBytes();
    } catch (IOException notGzip) {
      return new byte[0];
    }
  }

  /** The content of a regular file named {@code name} in any layer blob of the bucket. */
  private static String layerFile(Map<String, byte[]> objects, String name) throws IOException {
    for (Map.Entry<String, byte[]> object : objects.entrySet()) {
      byte[] tar = gunzipped(object.getValue());
      if (!object.getKey().startsWith("blobs/") || tar.length == 0) {
        continue;
      }
      try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(new ByteArrayInputStream(tar))) {
        org.apache.commons.compress.archivers.tar.TarArchiveEntry entry;
        while ((entry = in.getNextEntry()) != null) {
          if (entry.isFile() && entry.getName().equals(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
          }
        }
      }
    }
    throw new AssertionError("no layer holds " + name);
  }

  /** Key, value and header bytes of every record of every topic (internal ones too), from the start. */
  private static List<byte[]> allKafkaRecords(String bootstrap) throws Exception {
    List<byte[]> records = new ArrayList<>();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap),
            new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
      List<TopicPartition> partitions = new ArrayList<>();
      for (var description : admin.describeTopics(topics).allTopicNames().get().values()) {
        description.partitions().forEach(p -> partitions.add(new TopicPartition(description.name(), p.partition())));
      }
      assertThat(topics).contains("stagefarm.tasks", "stagefarm.events", "stagefarm.builds");
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          records.add(record.key() == null ? new byte[0] : record.key());
          records.add(record.value() == null ? new byte[0] : record.value());
          for (Header header : record.headers()) {
            records.add(header.value() == null ? new byte[0] : header.value());
          }
        }
      }
      assertThat(partitions).allSatisfy(p -> assertThat(consumer.position(p)).isGreaterThanOrEqualTo(end.get(p)));
    }
    return records;
  }
}
