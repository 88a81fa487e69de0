package dev.stagefarm.program.inprocess;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Task topics held in memory with a Kafka share group's semantics, for a farm that lives in one JVM
 * (the one-shot farm: no broker). Each record is handed to one member at a time under a lock that
 * expires unless renewed; a released record, or one whose lock expired, is handed out again; a
 * record handed out {@code deliveryLimit} times is archived instead (a poison task must not kill
 * worker after worker). Accepted and rejected records are gone. One member holds at most one record
 * (Kafka's {@code share.acquire.mode=record_limit} with {@code max.poll.records=1}, as the workers'
 * slots consume). Thread-safe; one lock for all topics (a one-shot farm queues tens of tasks, not
 * millions).
 */
public final class InProcessShareQueue {
  /** What a member does with the record it holds (Kafka's {@code AcknowledgeType}). */
  public enum Ack { ACCEPT, RELEASE, REJECT, RENEW }

  /** A record handed to a member: its topic, offset in that topic, and how often it was handed out, this time included. */
  public record Delivery(String topic, long offset, SignedRecord record, int deliveryCount) {}

  /** The queue is full: the publisher retries later (a one-shot farm never gets near it). */
  public static final class QueueFullException extends RuntimeException {
    QueueFullException(String message) {
      super(message);
    }
  }

  /** How many records may wait (or be held) in all topics together. */
  public static final int MAX_PENDING = 100_000;

  private enum State { AVAILABLE, ACQUIRED }

  private static final class Entry {
    final String topic;
    final long offset;
    final SignedRecord record;
    State state = State.AVAILABLE;
    String holder;
    long lockExpiresNanos;
    int deliveries;

    Entry(String topic, long offset, SignedRecord record) {
      this.topic = topic;
      this.offset = offset;
      this.record = record;
    }
  }

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Map<String, TreeMap<Long, Entry>> topics = new HashMap<>();
  private final Map<String, Long> nextOffsets = new HashMap<>();
  /** Acquired entries, to expire their locks without scanning every waiting record. */
  private final Set<Entry> acquired = new LinkedHashSet<>();
  private final Duration lockDuration;
  private final int deliveryLimit;
  private final LongSupplier nanoTime;
  private int pending;
  private long archived;
  /** Told after every publish ({@link #whenPublished}); null: nobody. */
  private volatile Runnable publishListener;

  /**
   * @param lockDuration how long a handed-out record stays with its member without a renewal
   * @param deliveryLimit how often a record is handed out at most (Kafka's {@code share.delivery.count.limit})
   */
  public InProcessShareQueue(Duration lockDuration, int deliveryLimit) {
    this(lockDuration, deliveryLimit, System::nanoTime);
  }

  InProcessShareQueue(Duration lockDuration, int deliveryLimit, LongSupplier nanoTime) {
    if (lockDuration.isNegative() || lockDuration.isZero() || deliveryLimit < 1) {
      throw new IllegalArgumentException("lock duration must be positive and the delivery limit at least 1");
    }
    this.lockDuration = lockDuration;
    this.deliveryLimit = deliveryLimit;
    this.nanoTime = nanoTime;
  }

  public Duration lockDuration() {
    return lockDuration;
  }

  /**
   * Appends the record to the topic; returns its offset.
   *
   * @throws QueueFullException when {@link #MAX_PENDING} records wait already
   */
  public long publish(String topic, SignedRecord record) {
    long offset;
    lock.lock();
    try {
      if (pending >= MAX_PENDING) {
        throw new QueueFullException("the in-process task queue holds " + MAX_PENDING + " tasks (its limit)");
      }
      offset = nextOffsets.merge(topic, 1L, Long::sum) - 1;
      topics.computeIfAbsent(topic, t -> new TreeMap<>()).put(offset, new Entry(topic, offset, record));
      pending++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    Runnable listener = publishListener;
    if (listener != null) {
      listener.run(); // outside the lock: it may start the slots that claim
    }
    return offset;
  }

  /**
   * Runs {@code listener} after every publish, on the publisher's thread (it must be quick): the one-shot farm
   * starts its workers when the first task comes, not before (a cached build publishes none).
   */
  public void whenPublished(Runnable listener) {
    publishListener = listener;
  }

  /**
   * Hands {@code member} the oldest available record of {@code topicNames} (in the order given),
   * waiting up to {@code timeout} for one. Empty when none came, or {@code stop} turned true (checked
   * after every {@link #wake()}).
   */
  public Optional<Delivery> claim(String member, Collection<String> topicNames, Duration timeout, BooleanSupplier stop)
      throws InterruptedException {
    long deadline = nanoTime.getAsLong() + timeout.toNanos();
    lock.lock();
    try {
      while (true) {
        long now = nanoTime.getAsLong();
        long nextExpiry = expireLocks(now);
        if (stop.getAsBoolean()) {
          return Optional.empty();
        }
        for (String name : topicNames) {
          TreeMap<Long, Entry> entries = topics.get(name);
          if (entries == null) {
            continue;
          }
          for (Entry e : entries.values()) {
            if (e.state == State.AVAILABLE) {
              e.state = State.ACQUIRED;
              e.holder = member;
              e.deliveries++;
              e.lockExpiresNanos = now + lockDuration.toNanos();
              acquired.add(e);
              return Optional.of(new Delivery(e.topic, e.offset, e.record, e.deliveries));
            }
          }
        }
        long wait = Math.min(deadline, nextExpiry) - now;
        if (deadline - now <= 0) {
          return Optional.empty();
        }
        changed.awaitNanos(Math.max(wait, 1));
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Acknowledges a record {@code member} holds. False when it does not hold it (any more): its lock
   * expired and the record went back (or to another member), or it was never its.
   */
  public boolean acknowledge(String member, String topic, long offset, Ack ack) {
    lock.lock();
    try {
      long now = nanoTime.getAsLong();
      expireLocks(now);
      TreeMap<Long, Entry> entries = topics.get(topic);
      Entry e = entries == null ? null : entries.get(offset);
      if (e == null || e.state != State.ACQUIRED || !member.equals(e.holder)) {
        return false;
      }
      switch (ack) {
        case RENEW -> e.lockExpiresNanos = now + lockDuration.toNanos();
        case ACCEPT, REJECT -> remove(e);
        case RELEASE -> giveBack(e);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Gives back every record {@code member} holds (a consumer that leaves the group). */
  public void releaseAll(String member) {
    lock.lock();
    try {
      for (Entry e : new ArrayList<>(acquired)) {
        if (member.equals(e.holder)) {
          giveBack(e);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Wakes every waiting {@link #claim}, so each checks its {@code stop}. */
  public void wake() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** How many records wait or are held (not yet accepted, rejected or archived). */
  public int pending() {
    lock.lock();
    try {
      return pending;
    } finally {
      lock.unlock();
    }
  }

  /** How many records reached the delivery limit and were dropped. */
  public long archived() {
    lock.lock();
    try {
      return archived;
    } finally {
      lock.unlock();
    }
  }

  /** Returns expired locks' records to the queue; the earliest lock expiry left (Long.MAX_VALUE: none). */
  private long expireLocks(long now) {
    long next = Long.MAX_VALUE;
    List<Entry> expired = new ArrayList<>();
    for (Entry e : acquired) {
      if (e.lockExpiresNanos - now <= 0) {
        expired.add(e);
      } else {
        next = Math.min(next, e.lockExpiresNanos);
      }
    }
    expired.forEach(this::giveBack);
    return next;
  }

  private void giveBack(Entry e) {
    acquired.remove(e);
    e.holder = null;
    if (e.deliveries >= deliveryLimit) {
      archived++;
      remove(e);
      return;
    }
    e.state = State.AVAILABLE;
    changed.signalAll();
  }

  private void remove(Entry e) {
    acquired.remove(e);
    TreeMap<Long, Entry> entries = topics.get(e.topic);
    if (entries != null && entries.remove(e.offset) != null) {
      pending--;
    }
  }
}
