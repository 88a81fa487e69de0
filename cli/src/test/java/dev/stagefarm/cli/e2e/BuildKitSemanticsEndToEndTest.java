package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageStatus;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BuildKit behaviours a Dockerfile author relies on, through the whole farm (CLI, coordinator,
 * Kafka, workers with runc, S3): one build of a Dockerfile that exercises each of them, then one
 * test per behaviour on the image it produced, each expecting what BuildKit does.
 */
class BuildKitSemanticsEndToEndTest {
  private static final String NOTES = "not a tar archive, just gzip\n";

  @TempDir static Path dir;
  private static Path rootfs;
  private static JsonNode config;
  private static byte[] notesGz;
  private static BuildStatus status;

  @BeforeAll
  static void buildOnce() throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("greeting.txt"), "hello, world\n");
    Files.createDirectories(ctx.resolve("realdir"));
    Files.writeString(ctx.resolve("realdir/inner.txt"), "through a symlinked dir\n");
    Files.createSymbolicLink(ctx.resolve("linkdir"), Path.of("realdir"));
    Files.createDirectories(ctx.resolve("x/y"));
    Files.writeString(ctx.resolve("x/y/f.txt"), "pivoted\n");
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(gz)) {
      out.write(NOTES.getBytes(StandardCharsets.UTF_8));
    }
    notesGz = gz.toByteArray();
    Files.write(ctx.resolve("notes.txt.gz"), notesGz);
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s AS src
        RUN mkdir -p /data/sub && echo one > /data/sub/a.txt && echo two > /data/b.txt && chown -R 1234:2345 /data

        FROM scratch
        COPY nothing-here-* greeting.txt /wild/
        COPY linkdir/inner.txt /viasymlink/
        COPY --from=src /data/ /owned/
        COPY --chown=1001 greeting.txt /chowned.txt
        ADD notes.txt.gz /gz/
        EXPOSE 7000-7002/udp 8080/TCP
        COPY --parents x/./y/f.txt /parents/
        """.formatted(FarmUnderTest.busybox()));
    Path tar = dir.resolve("image.tar");

    FarmUnderTest.Result result = FarmUnderTest.build("-t", "semantics:e2e", "-o", "type=oci,dest=" + tar, ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    status = FarmUnderTest.lastBuild();
    assertThat(status.getState()).isEqualTo(BuildState.SUCCEEDED);
    Path work = Files.createDirectories(dir.resolve("unpacked"));
    rootfs = ImageChecks.unpack(tar, "e2e", work).resolve("rootfs");
    config = ImageChecks.imageConfig(work.resolve("layout"), "e2e");
  }

  @Test
  void aScratchImageGetsBuildKitsDefaultPath() {
    assertThat(strings(config.path("config").path("Env")))
        .containsExactly("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }

  @Test
  void aWildcardMatchingNothingIsNoErrorAndTheOtherSourcesAreCopied() throws Exception {
    assertThat(rootfs.resolve("wild/greeting.txt")).hasContent("hello, world");
    try (var files = Files.list(rootfs.resolve("wild"))) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("greeting.txt");
    }
  }

  @Test
  void aSourceThroughADirectorySymlinkInTheContextIsFollowed() {
    assertThat(rootfs.resolve("viasymlink/inner.txt")).hasContent("through a symlinked dir");
  }

  @Test
  void copyFromKeepsTheOwnersOfTheSourceFiles() throws Exception {
    for (String path : List.of("owned/b.txt", "owned/sub", "owned/sub/a.txt")) {
      Path file = rootfs.resolve(path);
      assertThat(Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS)).as(path).isEqualTo(1234);
      assertThat(Files.getAttribute(file, "unix:gid", LinkOption.NOFOLLOW_LINKS)).as(path).isEqualTo(2345);
    }
  }

  @Test
  void chownWithOnlyAUidUsesItAsTheGidToo() throws Exception {
    Path file = rootfs.resolve("chowned.txt");
    assertThat(Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1001);
    assertThat(Files.getAttribute(file, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1001);
  }

  @Test
  void addOfAGzipFileThatIsNotATarCopiesItUnchanged() throws Exception {
    assertThat(Files.readAllBytes(rootfs.resolve("gz/notes.txt.gz"))).isEqualTo(notesGz);
  }

  @Test
  void exposeExpandsPortRangesAndLowerCasesTheProtocol() {
    List<String> ports = new ArrayList<>();
    config.path("config").path("ExposedPorts").fieldNames().forEachRemaining(ports::add);
    assertThat(ports).containsExactlyInAnyOrder("7000/udp", "7001/udp", "7002/udp", "8080/tcp");
  }

  @Test
  void copyParentsKeepsOnlyThePathAfterThePivot() {
    assertThat(rootfs.resolve("parents/y/f.txt")).hasContent("pivoted");
    assertThat(rootfs.resolve("parents/x")).doesNotExist();
  }

  @Test
  void everyStageRanOnAWorkerOnItsFirstAttempt() {
    assertThat(status.getStagesList()).extracting(StageStatus::getAttempt).containsOnly(1);
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
