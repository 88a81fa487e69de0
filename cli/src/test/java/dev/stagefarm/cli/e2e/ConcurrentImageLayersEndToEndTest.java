package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shape of deploy/images, where an image once came out of {@code docker load} without a file its COPY layer
 * should hold (docs/status.md, issue 11): several images built at once on one farm, each with the same shared COPY
 * and then a near-identical COPY of its own, exported as docker archives. docker load trusts a layer it already has
 * by its chain of diff_ids, so what must hold is layer identity: every layer's bytes hash to the diff_id its config
 * names, one diff_id is one set of files across all the archives, and each image holds its own files.
 */
class ConcurrentImageLayersEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> IMAGES = List.of("kafka", "s3", "coordinator", "client");

  @Test
  void imagesBuiltAtOnceWithNearIdenticalCopyLayersKeepEachLayerTrueToItsDiffId(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    String nonce = UUID.randomUUID().toString(); // fresh keys: nothing from the cache of earlier tests
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Path lib = Files.createDirectories(ctx.resolve("lib"));
    for (int i = 0; i < 20; i++) {
      Files.writeString(lib.resolve("lib-" + i + ".jar"), nonce + " library " + i + "\n".repeat(i * 100));
    }
    StringBuilder targets = new StringBuilder();
    for (String image : IMAGES) {
      Path own = Files.createDirectories(ctx.resolve(image));
      Files.writeString(own.resolve("start"), "#!/bin/sh\necho " + image + "\n");
      Files.writeString(own.resolve("logback.xml"), "<configuration/>\n"); // the same bytes in every image
      Files.writeString(ctx.resolve(image + ".Dockerfile"), """
          FROM %1$s
          COPY lib/ /opt/stagefarm/lib/
          COPY %2$s/start %2$s/logback.xml /opt/app/
          ENTRYPOINT ["/opt/app/start"]
          """.formatted(FarmUnderTest.busybox(), image));
      targets.append("""
          target "%1$s" {
            context = "%2$s"
            dockerfile = "%1$s.Dockerfile"
            tags = ["layers/%1$s:e2e"]
            output = ["type=docker,dest=%3$s/%1$s.tar"]
          }
          """.formatted(image, ctx, dir));
    }
    Path bakeFile = Files.writeString(dir.resolve("docker-bake.hcl"), """
        group "default" {
          targets = [%s]
        }
        %s""".formatted(String.join(", ", IMAGES.stream().map(i -> "\"" + i + "\"").toList()), targets));

    FarmUnderTest.Result result = FarmUnderTest.stagefarm("bake", "--coordinator", farm.endpoint(), "--progress", "plain",
        "-f", bakeFile.toString());
    assertThat(result.exitCode()).as(result.stderr()).isZero();

    Map<String, TreeSet<String>> filesByDiffId = new HashMap<>();
    for (String image : IMAGES) {
      List<Layer> layers = layersOf(dir.resolve(image + ".tar"));
      TreeSet<String> all = new TreeSet<>();
      for (Layer layer : layers) {
        assertThat(layer.actualDiffId()).as("%s: the bytes of layer %s hash to the diff_id its config names", image,
            layer.blobPath()).isEqualTo(layer.diffId());
        TreeSet<String> before = filesByDiffId.putIfAbsent(layer.diffId(), layer.files());
        if (before != null) {
          assertThat(layer.files()).as("%s: diff_id %s holds the same files in every archive", image, layer.diffId())
              .isEqualTo(before);
        }
        all.addAll(layer.files());
      }
      assertThat(all).as("%s holds its own files", image)
          .contains("opt/app/start", "opt/app/logback.xml", "opt/stagefarm/lib/lib-19.jar");
      assertThat(layers.getLast().files()).as("%s: the last COPY layer", image)
          .contains("opt/app/start", "opt/app/logback.xml");
    }
  }

  private record Layer(String blobPath, String diffId, String actualDiffId, TreeSet<String> files) {}

  /** The layers of a docker archive, each decompressed, hashed and listed. */
  private static List<Layer> layersOf(Path archive) throws IOException {
    Map<String, byte[]> entries = new HashMap<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(archive)))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        if (entry.isFile()) {
          entries.put(entry.getName(), tar.readAllBytes());
        }
      }
    }
    JsonNode manifest = JSON.readTree(entries.get("manifest.json")).get(0);
    JsonNode config = JSON.readTree(entries.get(manifest.get("Config").asText()));
    JsonNode diffIds = config.get("rootfs").get("diff_ids");
    JsonNode paths = manifest.get("Layers");
    assertThat(paths.size()).as("%s: layers against diff_ids", archive).isEqualTo(diffIds.size());
    List<Layer> layers = new java.util.ArrayList<>();
    for (int i = 0; i < paths.size(); i++) {
      byte[] blob = entries.get(paths.get(i).asText());
      InputStream raw = new ByteArrayInputStream(blob);
      if (blob.length > 2 && (blob[0] & 0xff) == 0x1f && (blob[1] & 0xff) == 0x8b) {
        raw = new GZIPInputStream(raw);
      }
      MessageDigest sha256 = sha256();
      TreeSet<String> files = new TreeSet<>();
      DigestInputStream hashed = new DigestInputStream(raw, sha256);
      try (TarArchiveInputStream tar = new TarArchiveInputStream(hashed)) {
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
          files.add(entry.getName().replaceFirst("^\\./", "").replaceFirst("/$", ""));
        }
        hashed.transferTo(java.io.OutputStream.nullOutputStream()); // the end-of-archive blocks are part of the diff
      }
      layers.add(new Layer(paths.get(i).asText(), diffIds.get(i).asText(),
          "sha256:" + HexFormat.of().formatHex(sha256.digest()), files));
    }
    return layers;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
