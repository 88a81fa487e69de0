package dev.stagefarm.coordinator.schedule;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Ready stages held back by the coordinator, released one at a time so that busy worker slots are
 * shared between tenants by weight (docs/operations.md, "Scheduling").
 *
 * <p>The policy, in order:
 *
 * <ol>
 *   <li>strict priority: a tenant whose best queued item has a higher priority goes first (a
 *       tenant's priority is bounded by configuration, so priority cannot starve a tenant that
 *       did not ask for it beyond what the operator allowed);
 *   <li>weighted occupancy: among tenants at that priority, the one with the fewest released,
 *       unfinished items per unit of weight ({@code inFlight / weight}) goes first, so busy slots
 *       converge on the weights whatever the stages' durations;
 *   <li>weighted service (start-time fair queuing): ties go to the tenant with the smallest virtual
 *       start tag, which grows by {@code 1 / weight} per release, so equal occupancy alternates
 *       between tenants in proportion to their weights instead of favouring one name.
 * </ol>
 *
 * <p>Within a tenant: higher priority first, then older builds, then the longer remaining critical
 * path, then the order items were added. Pure and single-threaded: the {@link Scheduler} holds
 * its lock while it calls in. Operations cost O(log n) in the tenant's queue plus O(t) over
 * tenants with queued items.
 *
 * @param <T> what is queued (the scheduler's stage)
 */
public final class FairQueue<T> {

  /** How one queued item ranks: its tenant, and its order within the tenant. */
  public record Rank(String tenant, int weight, int priority, long buildOrder, int pathLength) {
    public Rank {
      Objects.requireNonNull(tenant, "tenant");
      if (weight < 1) {
        throw new IllegalArgumentException("weight must be >= 1: " + weight);
      }
    }
  }

  private record Entry<T>(T item, Rank rank, long sequence) {}

  private static final Comparator<Entry<?>> WITHIN_TENANT =
      Comparator.<Entry<?>>comparingInt(e -> -e.rank().priority())
          .thenComparingLong(e -> e.rank().buildOrder())
          .thenComparingInt(e -> -e.rank().pathLength())
          .thenComparingLong(Entry::sequence);

  private static final class Tenant<T> {
    final String name;
    int weight = 1;
    final TreeSet<Entry<T>> queued = new TreeSet<>(WITHIN_TENANT);
    int inFlight;
    /** Virtual time of the tenant's next release (start-time fair queuing). */
    double startTag;
    long released;

    Tenant(String name) {
      this.name = name;
    }
  }

  private final Map<String, Tenant<T>> tenants = new HashMap<>();
  private final Map<T, Entry<T>> entries = new HashMap<>();
  /** Tenants with queued items: the only ones a release looks at. */
  private final Map<String, Tenant<T>> backlogged = new HashMap<>();
  private double virtualTime;
  private long sequence;

  /** Queues {@code item}; a tenant's weight is the one its latest item gave. */
  public void add(T item, Rank rank) {
    if (entries.containsKey(item)) {
      throw new IllegalArgumentException("already queued: " + item);
    }
    Tenant<T> tenant = tenants.computeIfAbsent(rank.tenant(), Tenant::new);
    tenant.weight = rank.weight();
    if (tenant.queued.isEmpty()) {
      // a tenant coming back after idling starts at the current virtual time: it gets no credit
      // for the time it had nothing queued
      tenant.startTag = Math.max(tenant.startTag, virtualTime);
      backlogged.put(tenant.name, tenant);
    }
    Entry<T> entry = new Entry<>(item, rank, sequence++);
    tenant.queued.add(entry);
    entries.put(item, entry);
  }

  /**
   * Takes the next item to release by the policy and counts it in flight for its tenant (until
   * {@link #finished(String)}); empty when nothing is queued.
   */
  public Optional<T> release() {
    Tenant<T> best = null;
    for (Tenant<T> tenant : backlogged.values()) {
      if (best == null || before(tenant, best)) {
        best = tenant;
      }
    }
    if (best == null) {
      return Optional.empty();
    }
    Entry<T> entry = best.queued.pollFirst();
    entries.remove(entry.item());
    virtualTime = Math.max(virtualTime, best.startTag);
    best.startTag += 1.0 / best.weight;
    best.inFlight++;
    best.released++;
    if (best.queued.isEmpty()) {
      backlogged.remove(best.name);
    }
    return Optional.of(entry.item());
  }

  private static <T> boolean before(Tenant<T> a, Tenant<T> b) {
    int pa = a.queued.first().rank().priority();
    int pb = b.queued.first().rank().priority();
    if (pa != pb) {
      return pa > pb;
    }
    // a.inFlight / a.weight < b.inFlight / b.weight, without division
    long oa = (long) a.inFlight * b.weight;
    long ob = (long) b.inFlight * a.weight;
    if (oa != ob) {
      return oa < ob;
    }
    if (a.startTag != b.startTag) {
      return a.startTag < b.startTag;
    }
    return a.name.compareTo(b.name) < 0;
  }

  /**
   * Counts an item in flight that did not come through {@link #release()} (a stage that was out
   * before a coordinator restart, or a retry that keeps its slot).
   */
  public void inFlight(String tenant) {
    tenants.computeIfAbsent(tenant, Tenant::new).inFlight++;
  }

  /** A released item of {@code tenant} finished (or was cancelled): its slot is free. */
  public void finished(String tenant) {
    Tenant<T> t = tenants.get(tenant);
    if (t == null || t.inFlight == 0) {
      throw new IllegalStateException("tenant " + tenant + " has nothing in flight");
    }
    t.inFlight--;
    forgetIfIdle(t);
  }

  /** Removes a queued item (its build ended); false when it was not queued. */
  public boolean remove(T item) {
    Entry<T> entry = entries.remove(item);
    if (entry == null) {
      return false;
    }
    Tenant<T> tenant = tenants.get(entry.rank().tenant());
    tenant.queued.remove(entry);
    if (tenant.queued.isEmpty()) {
      backlogged.remove(tenant.name);
      forgetIfIdle(tenant);
    }
    return true;
  }

  /** Removes every queued item {@code which} selects; returns how many. */
  public int removeIf(Predicate<T> which) {
    List<T> gone = entries.keySet().stream().filter(which).toList();
    gone.forEach(this::remove);
    return gone.size();
  }

  private void forgetIfIdle(Tenant<T> tenant) {
    // an idle tenant's start tag is reset on its return anyway: the map stays as small as the
    // set of tenants with work
    if (tenant.queued.isEmpty() && tenant.inFlight == 0) {
      tenants.remove(tenant.name);
    }
  }

  public boolean contains(T item) {
    return entries.containsKey(item);
  }

  /** Items queued, all tenants. */
  public int size() {
    return entries.size();
  }

  /** Items queued for {@code tenant}. */
  public int queued(String tenant) {
    Tenant<T> t = tenants.get(tenant);
    return t == null ? 0 : t.queued.size();
  }

  /** Released, unfinished items of {@code tenant}. */
  public int inFlightOf(String tenant) {
    Tenant<T> t = tenants.get(tenant);
    return t == null ? 0 : t.inFlight;
  }

  /** Released, unfinished items of all tenants. */
  public int inFlight() {
    return tenants.values().stream().mapToInt(t -> t.inFlight).sum();
  }

  /**
   * How many of its tenant's queued items go before {@code item} (0: it is next within its
   * tenant); empty when it is not queued. Other tenants' items interleave by the policy, so this
   * is the position within the tenant's own queue.
   */
  public Optional<Integer> positionInTenant(T item) {
    Entry<T> entry = entries.get(item);
    if (entry == null) {
      return Optional.empty();
    }
    return Optional.of(tenants.get(entry.rank().tenant()).queued.headSet(entry).size());
  }

  /**
   * The position within {@code tenant}'s queue of the first queued item that {@code mine} selects
   * among those ranked with {@code priority} and {@code buildOrder} (one build's items: they share
   * both); empty when there is none. Costs the items ahead of it, not a look at each of the build's:
   * the items of earlier builds are counted in the ordered set, and the build's own come next.
   */
  public Optional<Integer> firstPositionInTenant(String tenant, int priority, long buildOrder, Predicate<T> mine) {
    Tenant<T> t = tenants.get(tenant);
    if (t == null) {
      return Optional.empty();
    }
    // ranks before every item of that priority and build order (longest path, lowest sequence)
    Entry<T> start = new Entry<>(null, new Rank(tenant, 1, priority, buildOrder, Integer.MAX_VALUE), Long.MIN_VALUE);
    int ahead = t.queued.headSet(start).size();
    for (Entry<T> entry : t.queued.tailSet(start)) {
      if (entry.rank().priority() != priority || entry.rank().buildOrder() != buildOrder) {
        break;
      }
      if (mine.test(entry.item())) {
        return Optional.of(ahead);
      }
      ahead++; // another build of the same priority and order, interleaved by path length
    }
    return Optional.empty();
  }

  /** Per tenant with work: queued and in-flight counts (for metrics and `ls`). */
  public record TenantLoad(String tenant, int weight, int queued, int inFlight) {}

  public List<TenantLoad> loads() {
    List<TenantLoad> loads = new ArrayList<>();
    for (Tenant<T> t : tenants.values()) {
      loads.add(new TenantLoad(t.name, t.weight, t.queued.size(), t.inFlight));
    }
    loads.sort(Comparator.comparing(TenantLoad::tenant));
    return loads;
  }
}
