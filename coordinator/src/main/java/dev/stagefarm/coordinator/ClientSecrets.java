package dev.stagefarm.coordinator;

import dev.stagefarm.program.BuildSecrets;
import dev.stagefarm.proto.v1.BuildSecret;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a client sends that must never be kept in clear: its {@code --secret} values. The
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

  /** Whether the build's client sent secrets (also true of a request {@link #withoutValues}). */
  static boolean sent(SubmitBuildRequest request) {
    return request.getSecretsCount() > 0;
  }
}
