package dev.stagefarm.coordinator.plan;

import dev.stagefarm.oci.registry.RegistryCredentials;
import dev.stagefarm.proto.v1.RegistryCredential;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The registry credentials a build's client sent (SubmitBuildRequest field 31), by registry: for
 * that build's pulls and pushes only (docs/security.md, "Registry credentials").
 */
public final class ClientRegistryCredentials {
  private ClientRegistryCredentials() {}

  public static Map<String, RegistryCredentials> of(SubmitBuildRequest request) {
    Map<String, RegistryCredentials> credentials = new LinkedHashMap<>();
    for (RegistryCredential c : request.getRegistryCredentialsList()) {
      if (!c.getSecret().isEmpty()) {
        credentials.put(c.getRegistry(), new RegistryCredentials(c.getUsername(), c.getSecret()));
      }
    }
    return Map.copyOf(credentials);
  }
}
