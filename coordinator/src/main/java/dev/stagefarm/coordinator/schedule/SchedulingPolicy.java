package dev.stagefarm.coordinator.schedule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The operator's scheduling knobs (docs/operations.md, "Scheduling"; coordinator keys
 * {@code tenant-weight}, {@code max-priority}, {@code tenant-max-priority},
 * {@code max-queued-stages-per-tenant}, {@code max-queued-stages}, {@code dispatch-margin},
 * {@code unreported-capacity}, {@code metrics-max-tenants}).
 *
 * @param weights each named tenant's share of the busy slots; others have weight 1
 * @param maxPriority the highest {@code --priority} a tenant without an entry in
 *     {@code maxPriorities} may ask for
 * @param maxQueuedStagesPerTenant a submit of a tenant with this many stages held is refused
 * @param maxQueuedStages a submit while this many stages are held, all tenants, is refused
 * @param dispatchMargin stages released beyond the live workers' slots
 * @param unreportedCapacity stages released while no worker has reported its slots
 * @param metricTenants tenants that get their own metric tag; the rest share "other"
 */
public record SchedulingPolicy(Map<String, Integer> weights, int maxPriority, Map<String, Integer> maxPriorities,
    int maxQueuedStagesPerTenant, int maxQueuedStages, int dispatchMargin, int unreportedCapacity,
    int metricTenants) {

  /** The tenant of a build without one. */
  public static final String DEFAULT_TENANT = "default";
  /** The lowest priority (asking for a lower priority than the default is always allowed). */
  public static final int MIN_PRIORITY = -100;
  public static final int MAX_WEIGHT = 1000;
  private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  public static final SchedulingPolicy DEFAULT =
      new SchedulingPolicy(Map.of(), 0, Map.of(), 10_000, 100_000, 2, 64, 20);

  public SchedulingPolicy {
    weights = Map.copyOf(weights);
    maxPriorities = Map.copyOf(maxPriorities);
    weights.values().forEach(w -> {
      if (w < 1 || w > MAX_WEIGHT) {
        throw new IllegalArgumentException("a tenant weight must be 1.." + MAX_WEIGHT + ": " + w);
      }
    });
    if (maxQueuedStagesPerTenant < 1 || maxQueuedStages < 1 || dispatchMargin < 0 || unreportedCapacity < 1
        || metricTenants < 0) {
      throw new IllegalArgumentException("scheduling limits must be positive (the margin >= 0)");
    }
  }

  public int weight(String tenant) {
    return weights.getOrDefault(tenant, 1);
  }

  public int maxPriority(String tenant) {
    return maxPriorities.getOrDefault(tenant, maxPriority);
  }

  /** Whether {@code tenant} is a valid tenant name (1-64 of letters, digits and ._-). */
  public static boolean validTenant(String tenant) {
    return TENANT.matcher(tenant).matches();
  }

  /**
   * The tenant of a build: the authenticated identity when there is one (a token name or a
   * certificate CN, which then must agree with {@code requested} if that is set), else
   * {@code requested}, else {@value #DEFAULT_TENANT}.
   *
   * @param identity the caller's identity, or empty on a farm without authentication
   * @throws IllegalArgumentException naming the problem: an invalid name, or a requested tenant
   *     that is not the caller's identity
   */
  public static String tenantOf(String identity, String requested) {
    if (!identity.isEmpty()) {
      if (!requested.isEmpty() && !requested.equals(identity)) {
        throw new IllegalArgumentException("--tenant " + requested + " is not allowed: on a farm with authentication"
            + " the tenant is the caller's identity (" + identity + ")");
      }
      return identity;
    }
    if (requested.isEmpty()) {
      return DEFAULT_TENANT;
    }
    if (!validTenant(requested)) {
      throw new IllegalArgumentException("tenant \"" + (requested.length() > 80 ? requested.substring(0, 80) + "…"
          : requested) + "\" must be 1-64 characters of letters, digits and ._- (starting with a letter or digit)");
    }
    return requested;
  }

  /**
   * Reads "NAME=N" entries (configuration lists) into a map.
   *
   * @throws IllegalArgumentException naming the key and the bad entry
   */
  public static Map<String, Integer> namedNumbers(String key, List<String> entries) {
    Map<String, Integer> parsed = new LinkedHashMap<>();
    for (String entry : entries) {
      int eq = entry.lastIndexOf('=');
      String name = eq < 0 ? "" : entry.substring(0, eq).strip();
      if (eq < 0 || !validTenant(name)) {
        throw new IllegalArgumentException(key + ": \"" + entry + "\" is not TENANT=NUMBER");
      }
      try {
        parsed.put(name, Integer.parseInt(entry.substring(eq + 1).strip()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + ": \"" + entry + "\" is not TENANT=NUMBER");
      }
    }
    return parsed;
  }
}
