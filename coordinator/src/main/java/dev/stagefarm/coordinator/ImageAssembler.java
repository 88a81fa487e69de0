package dev.stagefarm.coordinator;

import dev.stagefarm.oci.registry.RegistryCredentials;
import dev.stagefarm.coordinator.content.StageResult;
import java.util.List;
import java.util.Map;

/** Turns the target stage's result into a stored image and delivers the outputs the coordinator owns. */
@FunctionalInterface
public interface ImageAssembler {
  /**
   * Stores the image config and manifest as blobs and pushes when asked.
   *
   * @param tags the names the build gave ({@code -t})
   * @param push whether to push the image to the registries its tags name
   * @return the manifest digest ({@code sha256:<hex>})
   * @throws Exception with a message for the user when assembly or a push fails
   */
  String assemble(StageResult target, List<String> tags, boolean push) throws Exception;

  /** What the client asked of the final image besides its stages ({@code --label}, {@code --annotation}). */
  /** @param registryCredentials the client's, by registry, for the push (docs/security.md, "Registry credentials") */
  record Request(List<String> tags, boolean push, Map<String, String> labels, Map<String, String> annotations,
      Map<String, RegistryCredentials> registryCredentials) {
    public Request {
      tags = List.copyOf(tags);
      labels = Map.copyOf(labels);
      annotations = Map.copyOf(annotations);
      registryCredentials = Map.copyOf(registryCredentials);
    }

    public Request(List<String> tags, boolean push, Map<String, String> labels, Map<String, String> annotations) {
      this(tags, push, labels, annotations, Map.of());
    }

    /** Never prints credentials. */
    @Override
    public String toString() {
      return "Request[tags=" + tags + ", push=" + push + ", credentials for " + registryCredentials.keySet() + "]";
    }
  }

  /** The assembled image: its manifest digest and its config digest (the image ID); either may be empty. */
  record Assembled(String manifestDigest, String configDigest) {}

  /**
   * Like {@link #assemble(StageResult, List, boolean)}, with labels and annotations; an assembler
   * that cannot set them refuses a request that has any.
   */
  default Assembled assemble(StageResult target, Request request) throws Exception {
    if (!request.labels().isEmpty() || !request.annotations().isEmpty()) {
      throw new UnsupportedOperationException("this coordinator cannot set image labels or annotations");
    }
    return new Assembled(assemble(target, request.tags(), request.push()), "");
  }
}
