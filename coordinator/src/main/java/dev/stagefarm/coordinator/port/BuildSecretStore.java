package dev.stagefarm.coordinator.port;

import dev.stagefarm.program.BuildSecrets;
import java.io.IOException;

/**
 * Where a build's secrets wait for the workers that run its stages: sealed (never in clear), per
 * build, removed when the build ends. The workers read them by build id (docs/protocol.md, "Build
 * secrets"); the coordinator only writes and deletes.
 */
public interface BuildSecretStore {
  /** Seals and stores the build's secrets; done before any task of the build is published. */
  void store(String buildId, BuildSecrets secrets) throws IOException;

  /** Removes the build's secrets (the build ended); removing none is not an error. */
  void delete(String buildId) throws IOException;

  /** A coordinator without a store: a build that sends secrets fails, naming why. */
  BuildSecretStore NONE = new BuildSecretStore() {
    @Override
    public void store(String buildId, BuildSecrets secrets) throws IOException {
      throw new IOException("this coordinator has no store for build secrets");
    }

    @Override
    public void delete(String buildId) {}
  };
}
