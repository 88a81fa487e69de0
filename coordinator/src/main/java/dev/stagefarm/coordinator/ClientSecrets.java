package dev.stagefarm.coordinator;

import dev.stagefarm.program.BuildSecrets;
import dev.stagefarm.oci.registry.RegistryCredentials;
import dev.stagefarm.proto.v1.BuildSecret;
import dev.stagefarm.proto.v1.RegistryCredential;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a client sends that must never be kept in clear: its {@code --secret} values and registry
 * credentials. The
 * coordinator keeps (and journals) the request with only their ids left, so a restarted coordinator
 * knows that the build had secrets without ever having stored them in clear.
 */
final class ClientSecrets {
  private ClientSecrets() {}

  /** The secret values of a request as the client sent it. */
  static BuildSecrets of(SubmitBuildRequest request) {
    Map<String, byte[]> values = new LinkedHashMap<>();
    for (BuildSecret secret : request.getSecretsList()) {
      values.put(secret.getId(), secret.getValue().toByteArray());
    }
    return BuildSecrets.of(values);
  }

  /** The request without secret values: what may be kept and journaled. */
  static SubmitBuildRequest withoutValues(SubmitBuildRequest request) {
    SubmitBuildRequest.Builder kept = request.toBuilder().clearSecrets();
    request.getSecretsList().forEach(s -> kept.addSecrets(BuildSecret.newBuilder().setId(s.getId())));
    return kept.build();
  }

  /**
   * The registry credentials the client sent, by registry: for this build's pulls and pushes only,
   * held in memory (docs/security.md, "Registry credentials").
   */
  static Map<String, RegistryCredentials> registryCredentials(SubmitBuildRequest request) {
    return dev.stagefarm.coordinator.plan.ClientRegistryCredentials.of(request);
  }

  /**
   * The request without registry credentials: what may be kept and journaled. The registries stay
   * named (without user or secret), so a record tells that the client sent some.
   */
  static SubmitBuildRequest withoutRegistryCredentials(SubmitBuildRequest request) {
    SubmitBuildRequest.Builder kept = request.toBuilder().clearRegistryCredentials();
    request.getRegistryCredentialsList().forEach(c -> kept.addRegistryCredentials(
        RegistryCredential.newBuilder().setRegistry(c.getRegistry())));
    return kept.build();
  }

  /** Whether the build's client sent secrets (also true of a request {@link #withoutValues}). */
  static boolean sent(SubmitBuildRequest request) {
    return request.getSecretsCount() > 0;
  }
}
