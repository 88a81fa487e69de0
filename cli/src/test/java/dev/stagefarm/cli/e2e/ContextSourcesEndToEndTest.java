package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.ExitCodes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Build inputs from elsewhere than a directory or a registry: {@code --build-context NAME=oci-layout://…}, through a real farm. */
class ContextSourcesEndToEndTest {

  /** The testkit busybox, copied by skopeo from the farm's registry into an OCI layout directory. */
  private static Path busyboxLayout(Path dir) throws Exception {
    Path layout = dir.resolve("layout");
    run("skopeo", "copy", "--src-tls-verify=false", "docker://" + FarmUnderTest.busybox(), "oci:" + layout + ":latest");
    return layout;
  }

  @Test
  void anOciLayoutIsTheImageOfFromAndCopyFrom(@TempDir Path dir) throws Exception {
    Path layout = busyboxLayout(dir);
    String manifest = manifestDigest(layout);
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM base
        COPY --from=tools /bin/busybox /tools-busybox
        RUN echo %s > /ran.txt
        """.formatted(UUID.randomUUID()));
    Path out = dir.resolve("out");

    FarmUnderTest.Result result = FarmUnderTest.build("--build-context", "base=oci-layout://" + layout,
        "--build-context", "tools=oci-layout://" + layout + "@" + manifest, "-o", "type=local,dest=" + out,
        ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(out.resolve("bin/busybox")).isRegularFile(); // FROM base is the layout's image
    assertThat(out.resolve("tools-busybox")).hasSameBinaryContentAs(out.resolve("bin/busybox"));
    assertThat(out.resolve("ran.txt")).isRegularFile(); // and its RUN ran on a worker, on that root filesystem
  }

  @Test
  void aTamperedOrEscapingLayoutIsRefusedBeforeTheBuild(@TempDir Path dir) throws Exception {
    Path layout = busyboxLayout(dir);
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM base\nRUN true\n");
    Path blobs = layout.resolve("blobs/sha256");
    Path layer = largestBlob(blobs);

    // same size, other content: the digest check catches it
    byte[] bytes = Files.readAllBytes(layer);
    bytes[bytes.length / 2] ^= 0x55;
    Files.write(layer, bytes);
    FarmUnderTest.Result tampered = FarmUnderTest.build("--build-context", "base=oci-layout://" + layout, ctx.toString());
    assertThat(tampered.exitCode()).as(tampered.stderr()).isEqualTo(ExitCodes.USAGE);
    assertThat(tampered.stderr()).contains("does not have that digest").doesNotContain("Exception");

    // a blob that is a symlink to a file of the client's is not followed, so never uploaded
    Files.delete(layer);
    Files.createSymbolicLink(layer, Path.of("/etc/hostname"));
    FarmUnderTest.Result link = FarmUnderTest.build("--build-context", "base=oci-layout://" + layout, ctx.toString());
    assertThat(link.exitCode()).as(link.stderr()).isEqualTo(ExitCodes.USAGE);
    assertThat(link.stderr()).contains("is missing or not a regular file");

    // not a layout, and a digest the layout does not hold
    FarmUnderTest.Result notLayout = FarmUnderTest.build("--build-context", "base=oci-layout://" + ctx, ctx.toString());
    assertThat(notLayout.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(notLayout.stderr()).contains("is not an OCI layout");
    FarmUnderTest.Result unknown = FarmUnderTest.build("--build-context",
        "base=oci-layout://" + layout + "@sha256:" + "0".repeat(64), ctx.toString());
    assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(unknown.stderr()).contains("has no blob sha256:" + "0".repeat(64));
  }

  private static String manifestDigest(Path layout) throws Exception {
    Matcher m = Pattern.compile("\"digest\"\\s*:\\s*\"(sha256:[0-9a-f]{64})\"")
        .matcher(Files.readString(layout.resolve("index.json")));
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  private static Path largestBlob(Path blobs) throws Exception {
    try (var files = Files.list(blobs)) {
      return files.max(java.util.Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
    }
  }

  static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }
}
