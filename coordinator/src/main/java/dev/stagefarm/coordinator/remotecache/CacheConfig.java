package dev.stagefarm.coordinator.remotecache;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * BuildKit's cache config ({@code application/vnd.buildkit.cacheconfig.v0}): the cached layers (blob, parent,
 * annotations) and the records, one per cache key, linked to the records they follow and pointing at their result.
 * Only the parts stagefarm writes and reads are modelled; {@link #parse} bounds everything it reads.
 */
public record CacheConfig(List<Layer> layers, List<Record> records) {
  public static final String MEDIA_TYPE = "application/vnd.buildkit.cacheconfig.v0";
  /** A config larger than this is refused before it is parsed. */
  public static final int MAX_BYTES = 16 << 20;
  public static final int MAX_LAYERS = 50_000;
  public static final int MAX_RECORDS = 100_000;
  private static final int MAX_INPUTS = 64;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param parent the index of the layer below it, -1 for none
   * @param diffId the digest of the uncompressed tar (BuildKit's {@code annotations.diffID})
   */
  public record Layer(Digest blob, int parent, String mediaType, Optional<Digest> diffId, long size, String createdAt) {}

  /**
   * @param digest the cache key ({@code sha256:<hex>})
   * @param inputs the records this one follows (BuildKit's {@code inputs}: links by index)
   * @param result the layer index of BuildKit's {@code layers} result, when there is one
   * @param noLayer the record has an empty chained result: the op changed no file (how stagefarm writes that)
   */
  public record Record(String digest, List<Integer> inputs, Optional<Integer> result, boolean noLayer) {
    public Record {
      inputs = List.copyOf(inputs);
    }
  }

  public CacheConfig {
    layers = List.copyOf(layers);
    records = List.copyOf(records);
  }

  public byte[] toJson() {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode layerNodes = root.putArray("layers");
    for (Layer layer : layers) {
      ObjectNode node = layerNodes.addObject();
      node.put("blob", layer.blob().toString());
      node.put("parent", layer.parent());
      ObjectNode annotations = node.putObject("annotations");
      annotations.put("mediaType", layer.mediaType());
      layer.diffId().ifPresent(d -> annotations.put("diffID", d.toString()));
      annotations.put("size", layer.size());
      annotations.put("createdAt", layer.createdAt());
    }
    ArrayNode recordNodes = root.putArray("records");
    for (Record record : records) {
      ObjectNode node = recordNodes.addObject();
      node.put("digest", record.digest());
      record.result().ifPresent(index -> node.putArray("layers").addObject()
          .put("layer", index).put("createdAt", "1970-01-01T00:00:00Z"));
      if (record.noLayer()) {
        node.putArray("chains").addObject().put("createdAt", "1970-01-01T00:00:00Z").putArray("layers");
      }
      if (!record.inputs().isEmpty()) {
        ArrayNode inputs = node.putArray("inputs");
        for (int link : record.inputs()) {
          inputs.addArray().addObject().put("selector", "").put("link", link);
        }
      }
    }
    try {
      return JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads an untrusted config. Layers and records stagefarm cannot use (another digest algorithm, results of
   * several layers) are kept out, not errors: a BuildKit cache has many.
   *
   * @throws IllegalArgumentException when it is larger than the limits or not a cache config at all
   */
  public static CacheConfig parse(byte[] bytes) {
    if (bytes.length > MAX_BYTES) {
      throw new IllegalArgumentException("the cache config has " + bytes.length + " bytes, more than the limit of "
          + MAX_BYTES);
    }
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("the cache config is not JSON: " + firstLine(e.getMessage()));
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("the cache config is not a JSON object");
    }
    JsonNode layerNodes = root.path("layers");
    JsonNode recordNodes = root.path("records");
    if (layerNodes.size() > MAX_LAYERS || recordNodes.size() > MAX_RECORDS) {
      throw new IllegalArgumentException("the cache config has " + layerNodes.size() + " layers and "
          + recordNodes.size() + " records, more than the limits of " + MAX_LAYERS + " and " + MAX_RECORDS);
    }
    List<Layer> layers = new ArrayList<>();
    for (JsonNode node : layerNodes) {
      JsonNode annotations = node.path("annotations");
      String blob = node.path("blob").asText("");
      String diffId = annotations.path("diffID").asText("");
      layers.add(new Layer(Digest.isValid(blob) ? Digest.parse(blob) : null, node.path("parent").asInt(-1),
          annotations.path("mediaType").asText(""),
          Digest.isValid(diffId) ? Optional.of(Digest.parse(diffId)) : Optional.empty(),
          annotations.path("size").asLong(-1), annotations.path("createdAt").asText("")));
    }
    List<Record> records = new ArrayList<>();
    for (JsonNode node : recordNodes) {
      Optional<Integer> result = Optional.empty();
      JsonNode results = node.path("layers");
      if (results.size() == 1 && results.get(0).path("layer").canConvertToInt()) {
        result = Optional.of(results.get(0).path("layer").asInt());
      }
      JsonNode chains = node.path("chains");
      boolean noLayer = results.isEmpty() && chains.size() == 1 && chains.get(0).path("layers").isArray()
          && chains.get(0).path("layers").isEmpty();
      List<Integer> inputs = new ArrayList<>();
      for (JsonNode input : node.path("inputs")) {
        if (inputs.size() < MAX_INPUTS) {
          inputs.add(input.path(0).path("link").asInt(-1));
        }
      }
      records.add(new Record(node.path("digest").asText(""), inputs, result, noLayer));
    }
    return new CacheConfig(layers, records);
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("");
  }

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
