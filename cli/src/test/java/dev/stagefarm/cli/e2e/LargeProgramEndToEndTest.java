package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.proto.v1.BuildState;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A COPY of a context with thousands of files compiles into a program larger than a Kafka record
 * may be (1 MiB by default): the program travels through the content store and the build works.
 */
class LargeProgramEndToEndTest {
  private static final int FILES = 8_000;

  @Test
  void aProgramLargerThanAKafkaRecordIsPassedByDigest(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    for (int i = 0; i < FILES; i++) {
      Path file = ctx.resolve("d%02d/a-file-name-long-enough-to-make-the-program-large-%05d.txt".formatted(i % 80, i));
      Files.createDirectories(file.getParent());
      Files.writeString(file, (i % 2) + "\n");
    }
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        COPY . /ctx/
        RUN test "$(find /ctx -name '*.txt' | wc -l)" -eq %d
        """.formatted(FarmUnderTest.busybox(), FILES));

    FarmUnderTest.Result result = FarmUnderTest.build("--no-cache", ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(FarmUnderTest.lastBuild().getState()).isEqualTo(BuildState.SUCCEEDED);
    // the RUN above saw every file; the program went through the store, not the task record
    try (BlobStore store = BlobStore.connect(new S3Config(FarmUnderTest.farm().s3Endpoint(),
        EmbeddedS3.DEFAULT_ACCESS_KEY, EmbeddedS3.DEFAULT_SECRET_KEY, EmbeddedFarm.BUCKET, null))) {
      assertThat(store.list(Namespace.PROGRAMS.prefix())).isNotEmpty();
    }
  }
}
