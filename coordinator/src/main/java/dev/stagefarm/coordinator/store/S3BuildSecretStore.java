package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.port.BuildSecretStore;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.BuildSecrets;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.SecretSeal;
import java.io.IOException;

/**
 * A build's secrets under {@code secrets/<build id>} in the bucket, sealed with a key derived from
 * the farm key and the build id ({@link SecretSeal}): whoever reads the bucket without the farm key
 * learns the secret ids and sizes, nothing more.
 */
public final class S3BuildSecretStore implements BuildSecretStore {
  private final BlobStore store;
  private final FarmKeys keys;

  public S3BuildSecretStore(BlobStore store, FarmKeys keys) {
    this.store = store;
    this.keys = keys;
  }

  /** The object that holds the build's sealed secrets. */
  public static String objectKey(String buildId) {
    return "secrets/" + buildId;
  }

  @Override
  public void store(String buildId, BuildSecrets secrets) throws IOException {
    store.putSealed(objectKey(buildId), SecretSeal.seal(keys, SecretSeal.Kind.BUILD_SECRETS, buildId, secrets.asMap()));
  }

  @Override
  public void delete(String buildId) throws IOException {
    store.deleteSealed(objectKey(buildId));
  }
}
