package dev.stagefarm.cli.build;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.proto.v1.BuildStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code --metadata-file} and {@code --iidfile}, with buildx's keys and meanings:
 * {@code containerimage.digest} (the manifest), {@code containerimage.config.digest} (the image
 * ID), {@code image.name} (the names, comma-separated) and {@code buildx.build.ref} (here the
 * farm's build id, for {@code stagefarm} commands that take one).
 */
public final class BuildMetadata {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private BuildMetadata() {}

  /** The image ID as docker prints it: the config digest (the manifest digest if the farm did not say). */
  public static String imageId(BuildStatus status) {
    return status.getImageConfigDigest().isEmpty() ? status.getImageDigest() : status.getImageConfigDigest();
  }

  public static byte[] json(BuildStatus status, List<String> names) throws IOException {
    ObjectNode metadata = JSON.createObjectNode();
    metadata.put("buildx.build.ref", "stagefarm/" + status.getBuildId());
    metadata.put("containerimage.digest", status.getImageDigest());
    if (!status.getImageConfigDigest().isEmpty()) {
      metadata.put("containerimage.config.digest", status.getImageConfigDigest());
    }
    if (!names.isEmpty()) {
      metadata.put("image.name", String.join(",", names));
    }
    return JSON.writeValueAsBytes(metadata);
  }

  public static void writeIidFile(Path file, BuildStatus status) throws IOException {
    Files.writeString(file, imageId(status), StandardCharsets.UTF_8);
  }

  public static void writeMetadataFile(Path file, BuildStatus status, List<String> names) throws IOException {
    Files.write(file, json(status, names));
  }
}
