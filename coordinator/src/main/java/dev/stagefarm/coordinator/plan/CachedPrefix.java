package dev.stagefarm.coordinator.plan;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.v1.Layer;
import java.util.List;

/**
 * The cached first instructions of a stage that otherwise runs (see {@code
 * DockerfilePlanner.cachedPrefix}).
 *
 * @param instructions how many leading instructions hit the cache
 * @param dockerfile the Dockerfile the task carries: the prefix's RUN/COPY/ADD lines blanked
 * @param layers the prefix's layers, appended to the stage's base
 * @param configJson the image config after the prefix
 */
public record CachedPrefix(int instructions, byte[] dockerfile, List<Layer> layers, ByteString configJson) {
  public CachedPrefix {
    layers = List.copyOf(layers);
  }
}
