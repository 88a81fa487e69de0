package dev.stagefarm.coordinator.plan;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.registry.RegistryCredentials;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Remembers for a few seconds what a base image reference resolved to, so back-to-back builds of
 * the same Dockerfile (a no-op rebuild, the stages of a bake) do not ask the registry again each
 * time. A tag pushed meanwhile is seen once the entry expires; failures are not remembered.
 */
public final class RecentBaseImages implements BaseImageResolver {
  /** Short: what a tag points to must not lag a push by more than this. */
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);
  private static final int MAX_ENTRIES = 1024;

  /** @param credentials who asked: one client's resolution never answers another's (a private image) */
  private record Key(String reference, Platform platform, Map<String, RegistryCredentials> credentials) {}

  private record Remembered(ResolvedImage image, long expiresNanos) {}

  private final BaseImageResolver resolver;
  private final long ttlNanos;
  private final LongSupplier nanoClock;
  private final Map<Key, Remembered> entries = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Remembered> eldest) {
      return size() > MAX_ENTRIES;
    }
  };

  public RecentBaseImages(BaseImageResolver resolver) {
    this(resolver, DEFAULT_TTL, System::nanoTime);
  }

  public RecentBaseImages(BaseImageResolver resolver, Duration ttl, LongSupplier nanoClock) {
    this.resolver = resolver;
    this.ttlNanos = ttl.toNanos();
    this.nanoClock = nanoClock;
  }

  @Override
  public ResolvedImage resolve(String reference, Platform platform) throws PlanningException {
    return resolve(reference, platform, Map.of());
  }

  @Override
  public ResolvedImage resolve(String reference, Platform platform, Map<String, RegistryCredentials> credentials)
      throws PlanningException {
    Key key = new Key(reference, platform, Map.copyOf(credentials));
    synchronized (entries) {
      Remembered known = entries.get(key);
      if (known != null && nanoClock.getAsLong() - known.expiresNanos() < 0) {
        return known.image();
      }
    }
    ResolvedImage resolved = resolver.resolve(reference, platform, credentials); // outside the lock: a registry round trip
    synchronized (entries) {
      entries.put(key, new Remembered(resolved, nanoClock.getAsLong() + ttlNanos));
    }
    return resolved;
  }
}
