package dev.stagefarm.program.inprocess;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The farm's three channels in one JVM, for a coordinator and workers that share it (the one-shot
 * farm, which starts no Kafka broker): the task topics with share-group semantics ({@link
 * InProcessShareQueue}), the event stream (workers to the one coordinator) and the control
 * broadcast (the coordinator to every worker). The records are the ones Kafka carries, signed the
 * same way; every reader verifies them as it would read them from Kafka.
 */
public final class InProcessBus {
  /** How many events may wait for the coordinator; a publisher waits (durable events) or drops (progress) beyond. */
  public static final int MAX_EVENTS = 65_536;
  /** How many control messages are kept for workers that start later (the control topic's retention). */
  public static final int MAX_CONTROL = 10_000;

  private final InProcessShareQueue tasks;
  private final LinkedBlockingQueue<SignedRecord> events = new LinkedBlockingQueue<>(MAX_EVENTS);
  private final ArrayDeque<Timed> control = new ArrayDeque<>();
  private final List<Consumer<SignedRecord>> controlReaders = new CopyOnWriteArrayList<>();
  private final LongSupplier clockMs;
  private long droppedEvents;

  private record Timed(long atMs, SignedRecord record) {}

  /** How an in-process bus is named where a Kafka bootstrap address would go (a worker's {@code kafka} setting). */
  public static final String ADDRESS_PREFIX = "in-process:";
  private static final java.util.Map<String, InProcessBus> REGISTERED = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Makes this bus reachable by {@code address} ({@link #ADDRESS_PREFIX} + a unique name) until the
   * returned handle is closed: the one-shot farm's workers find it through their configuration.
   */
  public AutoCloseable register(String address) {
    if (!isAddress(address)) {
      throw new IllegalArgumentException("an in-process bus address starts with " + ADDRESS_PREFIX + ": " + address);
    }
    if (REGISTERED.putIfAbsent(address, this) != null) {
      throw new IllegalStateException("an in-process bus is registered as " + address + " already");
    }
    return () -> REGISTERED.remove(address, this);
  }

  /** Whether {@code address} names an in-process bus rather than Kafka brokers. */
  public static boolean isAddress(String address) {
    return address != null && address.startsWith(ADDRESS_PREFIX);
  }

  /**
   * The bus registered as {@code address}.
   *
   * @throws IllegalStateException when none is (an in-process address outside its farm's JVM)
   */
  public static InProcessBus lookup(String address) {
    InProcessBus bus = REGISTERED.get(address);
    if (bus == null) {
      throw new IllegalStateException("no in-process bus " + address + " in this JVM: such an address names the"
          + " one-shot farm's transport, reachable only inside its process");
    }
    return bus;
  }

  /**
   * @param lockDuration the task record lock (renewed by a running slot)
   * @param deliveryLimit how often a task is handed out at most
   */
  public InProcessBus(Duration lockDuration, int deliveryLimit) {
    this.tasks = new InProcessShareQueue(lockDuration, deliveryLimit);
    this.clockMs = System::currentTimeMillis;
  }

  public InProcessShareQueue tasks() {
    return tasks;
  }

  /** Adds a progress event without waiting; false (and counted) when the coordinator is {@link #MAX_EVENTS} behind. */
  public boolean offerEvent(SignedRecord event) {
    boolean taken = events.offer(event);
    if (!taken) {
      synchronized (this) {
        droppedEvents++;
      }
    }
    return taken;
  }

  /** Adds an event, waiting up to {@code timeout} for room; false when there was none. */
  public boolean putEvent(SignedRecord event, Duration timeout) throws InterruptedException {
    return events.offer(event, timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** The next event, waiting up to {@code timeout}; null when none came. */
  public SignedRecord takeEvent(Duration timeout) throws InterruptedException {
    return events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  public synchronized long droppedEvents() {
    return droppedEvents;
  }

  /** Broadcasts a control message to every reader now, and keeps it for readers that start later. */
  public void publishControl(SignedRecord message) {
    synchronized (control) {
      control.addLast(new Timed(clockMs.getAsLong(), message));
      while (control.size() > MAX_CONTROL) {
        control.removeFirst();
      }
      // under the lock: a reader that subscribes now sees each message once, from the log or live
      for (Consumer<SignedRecord> reader : controlReaders) {
        reader.accept(message);
      }
    }
  }

  /**
   * Hands {@code reader} the kept control messages of the last {@code lookback}, then every new one
   * (on the publisher's thread: the reader must be quick). Returns what unsubscribes it.
   */
  public Runnable readControl(Duration lookback, Consumer<SignedRecord> reader) {
    synchronized (control) {
      long since = clockMs.getAsLong() - lookback.toMillis();
      for (Timed t : control) {
        if (t.atMs() >= since) {
          reader.accept(t.record());
        }
      }
      controlReaders.add(reader);
    }
    return () -> controlReaders.remove(reader);
  }
}
