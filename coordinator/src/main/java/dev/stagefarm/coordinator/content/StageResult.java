package dev.stagefarm.coordinator.content;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The filesystem and config a stage produced, or that a stage starts from (a pinned image,
 * scratch, another stage's result).
 *
 * <p>The config stays the JSON bytes the worker or registry wrote: the coordinator passes a
 * base image's config on unchanged and only the assembler rewrites the target's.
 *
 * @param layers bottom first
 * @param configJson the OCI image config; empty when no config is known (tests, a bare result)
 * @param origin where it came from, for messages: a pinned reference, {@code stage:<name>},
 *     {@code scratch}
 */
public record StageResult(List<LayerRef> layers, byte[] configJson, String origin) {
  public StageResult {
    layers = List.copyOf(layers);
    configJson = configJson.clone();
    Objects.requireNonNull(origin, "origin");
  }

  @Override
  public byte[] configJson() {
    return configJson.clone();
  }

  public boolean hasConfig() {
    return configJson.length > 0;
  }

  public StageResult withOrigin(String newOrigin) {
    return new StageResult(layers, configJson, newOrigin);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof StageResult that
        && layers.equals(that.layers)
        && Arrays.equals(configJson, that.configJson)
        && origin.equals(that.origin);
  }

  @Override
  public int hashCode() {
    return Objects.hash(layers, Arrays.hashCode(configJson), origin);
  }

  @Override
  public String toString() {
    return "StageResult[" + origin + ", " + layers.size() + " layers, config " + configJson.length + " bytes]";
  }
}
