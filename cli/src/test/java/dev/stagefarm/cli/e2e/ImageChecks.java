package dev.stagefarm.cli.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** Checks built images with the real tools: tar + umoci unpack, then runc run. */
final class ImageChecks {
  private ImageChecks() {}

  record Run(int exitCode, String output) {}

  /** Unpacks an OCI layout tarball with {@code umoci unpack} into {@code work/bundle}; returns the bundle. */
  static Path unpack(Path ociTar, String tag, Path work) throws Exception {
    Path layout = Files.createDirectories(work.resolve("layout"));
    exec(List.of("tar", "-xf", ociTar.toString(), "-C", layout.toString()), work);
    Path bundle = work.resolve("bundle");
    Run unpack = exec(List.of("umoci", "unpack", "--image", layout + ":" + tag, bundle.toString()), work);
    if (unpack.exitCode() != 0) {
      throw new AssertionError("umoci unpack failed: " + unpack.output());
    }
    return bundle;
  }

  /** The image config of the manifest tagged {@code tag} in an unpacked OCI layout. */
  static JsonNode imageConfig(Path layout, String tag) throws IOException {
    ObjectMapper json = new ObjectMapper();
    for (JsonNode manifest : json.readTree(layout.resolve("index.json").toFile()).path("manifests")) {
      if (tag.equals(manifest.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
        JsonNode image = json.readTree(blob(layout, manifest.path("digest").asText()).toFile());
        return json.readTree(blob(layout, image.path("config").path("digest").asText()).toFile());
      }
    }
    throw new AssertionError("no manifest tagged " + tag + " in " + layout);
  }

  /** The layer descriptors (media type, digest) of the manifest tagged {@code tag} in an unpacked OCI layout. */
  static List<JsonNode> layers(Path layout, String tag) throws IOException {
    ObjectMapper json = new ObjectMapper();
    for (JsonNode manifest : json.readTree(layout.resolve("index.json").toFile()).path("manifests")) {
      if (tag.equals(manifest.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
        List<JsonNode> layers = new java.util.ArrayList<>();
        json.readTree(blob(layout, manifest.path("digest").asText()).toFile()).path("layers").forEach(layers::add);
        return layers;
      }
    }
    throw new AssertionError("no manifest tagged " + tag + " in " + layout);
  }

  /** The bytes of blob {@code digest} in an unpacked OCI layout. */
  static byte[] blobBytes(Path layout, String digest) throws IOException {
    return Files.readAllBytes(blob(layout, digest));
  }

  private static Path blob(Path layout, String digest) {
    return layout.resolve("blobs").resolve(digest.replace(':', '/'));
  }

  /** Runs the bundle's default process with runc (no terminal) and returns its exit code and output. */
  static Run runc(Path bundle) throws Exception {
    Path config = bundle.resolve("config.json");
    ObjectMapper json = new ObjectMapper();
    ObjectNode spec = (ObjectNode) json.readTree(config.toFile());
    ((ObjectNode) spec.get("process")).put("terminal", false);
    json.writeValue(config.toFile(), spec);
    String id = "stagefarm-e2e-" + UUID.randomUUID().toString().substring(0, 8);
    return exec(List.of("runc", "run", "--bundle", bundle.toString(), id), bundle);
  }

  static Run exec(List<String> command, Path dir) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    process.getOutputStream().close();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(command + " did not finish");
    }
    return new Run(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }
}
