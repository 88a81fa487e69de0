package dev.stagefarm.coordinator.port;

import dev.stagefarm.program.BuildSecrets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Build secrets in memory, for tests: what is stored, and which builds' secrets were deleted. */
public final class InMemoryBuildSecretStore implements BuildSecretStore {
  private final Map<String, BuildSecrets> stored = new ConcurrentHashMap<>();
  private final Set<String> deleted = ConcurrentHashMap.newKeySet();

  @Override
  public void store(String buildId, BuildSecrets secrets) {
    stored.put(buildId, secrets);
  }

  @Override
  public void delete(String buildId) {
    if (stored.remove(buildId) != null) {
      deleted.add(buildId);
    }
  }

  public Map<String, BuildSecrets> stored() {
    return stored;
  }

  public Set<String> deleted() {
    return deleted;
  }
}
