package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool behind a {@link SandboxPool}: sandbox networks made ahead of the RUNs that use them. A RUN takes a
 * namespace whose slirp4netns is already up (the {@code unshare}, {@code ip}, {@code sh}, {@code unshare}, {@code slirp4netns} processes and
 * the wait for slirp4netns's ready byte, 0.1–1 s on a loaded host, are then off the RUN's path), and a
 * replacement is made in the background; the used one is torn down in the background after its
 * container ended.
 *
 * <p>Neither competes with the stage that used the namespace when it need not: while a spare is still
 * ready the replacement is owed, and the used namespace is kept (its slirp4netns idle) until the stage
 * has reported ({@link #catchUp()}): in an 8-stage fan-out on 2 cores the ~5 processes of each
 * replacement and the teardowns otherwise ran while the stages started runc and unmounted their
 * overlays. When no spare is left (a stage of many RUNs), the replacement is made at once, as the next
 * RUN will want it; at most {@link #MAX_DEFERRED} used namespaces wait, beyond that they go at once.
 *
 * <p>A namespace serves exactly one RUN: {@link #take()} removes it from the pool, and it is never put
 * back (what a RUN left in it — sockets, neighbour entries — dies with it). A ready namespace whose
 * blocked destinations differ from the host's current addresses (the host gained or lost one since it
 * was made), or whose slirp4netns died, is discarded and a fresh one made for the taker. {@link #close()}
 * (worker stop) tears down the ready ones and waits for the teardowns in flight; a take after it, or waiting for a
 * namespace when it comes, fails and makes none, and one a take was making as it came is torn down. A killed worker's
 * namespaces are mounts in the pool's dir, which {@link #start()} removes (and the start-up cleanup of a work dir
 * the pool's dir is under); their slirp4netns exits with the worker (its exit fd).
 *
 * <p>Its size may change while it runs ({@link #resize}): a pool shared by the workers of a process grows as they
 * join and shrinks as they leave.
 */
final class NamespacePool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NamespacePool.class);
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private final SandboxNetwork network;
  private final Path dir;
  private int size; // guarded by this
  private final Deque<SandboxNetwork.Namespace> ready = new ArrayDeque<>(); // guarded by this
  private final List<Thread> background = new ArrayList<>(); // guarded by this
  private int making; // guarded by this
  /** Takers waiting for a namespace being made, each for one of them. Guarded by this. */
  private int waiting;
  /** Replacements not started yet because a spare was ready (made at {@link #catchUp()}). Guarded by this. */
  private int owed;
  /** Used namespaces whose teardown waits for {@link #catchUp()}. Guarded by this. */
  private final List<SandboxNetwork.Namespace> spent = new ArrayList<>();
  /** How many used namespaces may wait for {@link #catchUp()} (each keeps a slirp4netns process). */
  static final int MAX_DEFERRED = 4;
  private boolean closed; // guarded by this
  /** Takes past their wait, checking or making the namespace they hand out; {@link #close()} waits for them. */
  private int taking; // guarded by this
  /** Whether the pool makes namespaces only once a stage announces RUNs ({@link #prepare}) or a RUN takes one. */
  private final boolean onDemand;
  /**
   * An on-demand pool's demand: the sandboxed RUNs the stages running now announced ({@link #prepare}) that have not
   * taken a namespace yet. Back to 0 once no such stage runs: a one-shot worker, which may never get another stage,
   * makes no replacement for a stage's last RUN (session 13: fanout32 made 64 namespaces for its 32 RUNs, half of
   * them while the RUNs started, to be torn down unused at the farm's stop).
   */
  private int outstanding; // guarded by this
  /** An on-demand pool's stages running now that announced RUNs ({@link #prepare} until {@link #stageEnded}). */
  private int preparedStages; // guarded by this
  /** What a RUN must not reach now, compared with a ready namespace's routes when a RUN takes it. */
  private final BlockedDestinations blockedNow;

  /** Reads what a RUN must not reach: {@link SandboxNetwork#blockedDestinations()}, or a test's own. */
  @FunctionalInterface
  interface BlockedDestinations {
    List<String> read() throws IOException;
  }

  /**
   * @param dir where the namespaces are bound (under the worker's work dir, or beside the work dirs of the
   *     workers that share the pool)
   * @param size how many to keep ready (0: none, every RUN makes its own)
   */
  NamespacePool(SandboxNetwork network, Path dir, int size) {
    this(network, dir, size, false);
  }

  /**
   * @param onDemand whether none is made until a stage announces its RUNs ({@link #prepare}): then as many as the
   *     largest such stage had, up to {@code size}
   */
  NamespacePool(SandboxNetwork network, Path dir, int size, boolean onDemand) {
    this(network, dir, size, onDemand, SandboxNetwork::blockedDestinations);
  }

  /** As above, checking a taken namespace against {@code blockedNow} (a test's reading of the host's addresses). */
  NamespacePool(SandboxNetwork network, Path dir, int size, boolean onDemand, BlockedDestinations blockedNow) {
    if (size < 0) {
      throw new IllegalArgumentException("size " + size);
    }
    this.network = network;
    this.dir = dir;
    this.size = size;
    this.onDemand = onDemand;
    this.blockedNow = blockedNow;
  }

  /** How many it keeps ready now: its size, or an on-demand pool's outstanding RUNs up to its size. Guarded by this. */
  private int keep() {
    return onDemand ? Math.min(size, outstanding) : size;
  }

  /**
   * A stage with {@code runs} sandboxed RUNs is about to start: an on-demand pool keeps ready as many as the running
   * stages' RUNs still to take one (up to its size), made while the stage's base is materialised; an eager pool keeps
   * its size ready anyway. Call {@link #stageEnded} when that stage has ended, whatever happened.
   */
  void prepare(int runs) {
    if (runs < 0) {
      throw new IllegalArgumentException("runs " + runs);
    }
    synchronized (this) {
      if (!onDemand) {
        return;
      }
      outstanding += runs;
      preparedStages++;
    }
    refill();
  }

  /**
   * A stage {@link #prepare}d has ended. Once none runs, an on-demand pool's outstanding RUNs are 0 (a stage's cached
   * or failed RUNs take none): no replacement is made for them; what is ready stays for a later stage.
   */
  void stageEnded() {
    synchronized (this) {
      if (!onDemand || preparedStages == 0) {
        return;
      }
      if (--preparedStages == 0) {
        outstanding = 0;
      }
    }
  }

  /**
   * Removes what a killed predecessor left in the pool's dir (its namespace mounts, files, batches and logs) and
   * starts making the ready namespaces in the background.
   */
  NamespacePool start() throws IOException {
    if (Files.isDirectory(dir)) {
      try (var left = Files.list(dir)) {
        for (Path p : left.toList()) {
          Mounts.unmount(p);
          Files.deleteIfExists(p);
        }
      }
    }
    refill();
    return this;
  }

  /**
   * A namespace for one RUN, not handed to anyone else; the caller gives it back with {@link
   * #release} once its container has ended.
   *
   * @throws IOException when the pool is closed (the worker is stopping), before or while this waits or makes one:
   *     no network is made for a RUN of a stopping worker, and one made as the pool closed is torn down
   */
  SandboxNetwork.Namespace take() throws IOException, InterruptedException {
    SandboxNetwork.Namespace ns;
    synchronized (this) {
      failIfClosed();
      // one being made started before this RUN: waiting for it is sooner than making another; but only one taker
      // waits for each (a burst of RUNs past the ready ones, in a pool shared by many workers, makes the rest's
      // networks at once, side by side, instead of one after another)
      waiting++;
      try {
        while (ready.isEmpty() && making >= waiting && !closed) {
          wait();
        }
      } finally {
        waiting--;
      }
      failIfClosed(); // close() woke it
      ns = ready.pollFirst();
      if (ns != null && !ready.isEmpty()) {
        owed++; // a spare is ready: the replacement waits until the stage has reported
      }
      if (outstanding > 0) {
        outstanding--; // an on-demand pool makes no replacement for a stage's last RUN
      }
      taking++; // close() waits for this take, so a namespace it makes is handed out or torn down, not left
    }
    try {
      refill(); // when no spare is left; else the replacement is owed
      SandboxNetwork.Namespace usable = ns == null ? null : checked(ns);
      SandboxNetwork.Namespace handed = usable != null ? usable : network.create(nextFile());
      synchronized (this) {
        if (!closed) {
          return handed;
        }
      }
      closeQuietly(handed); // the pool closed while it was being made: the worker is stopping
      throw stopping();
    } finally {
      synchronized (this) {
        taking--;
        notifyAll();
      }
    }
  }

  /** Guarded by this. */
  private void failIfClosed() throws IOException {
    if (closed) {
      throw stopping();
    }
  }

  private IOException stopping() {
    return new IOException("the RUN network pool in " + dir + " is closed: the worker is stopping");
  }

  /**
   * {@code ns} when it is still fit for a RUN; else null, and it is torn down. One whose fitness cannot be told (the
   * host's addresses could not be read) is not fit: never handed out unchecked, never left behind either (it is no
   * longer in the pool, so nothing else would tear it down); the fresh one made instead reads them again.
   */
  private SandboxNetwork.Namespace checked(SandboxNetwork.Namespace ns) {
    boolean fit;
    try {
      fit = ns.alive() && ns.blocked().equals(blockedNow.read());
    } catch (IOException | RuntimeException e) {
      log.warn("reading the host's addresses failed ({}): the ready RUN network {} is made again", e.getMessage(),
          ns.path());
      fit = false;
    }
    if (fit) {
      return ns;
    }
    inBackground(() -> closeQuietly(ns)); // the host's addresses changed (or its slirp4netns died): made again
    return null;
  }

  /**
   * Tears {@code ns} down (its container has ended): at {@link #catchUp()}, or in the background when
   * {@link #MAX_DEFERRED} wait already, or at once in a pool that keeps none ready.
   */
  void release(SandboxNetwork.Namespace ns) {
    if (size() == 0) {
      closeQuietly(ns);
      return;
    }
    boolean stopped;
    synchronized (this) {
      if (!closed && spent.size() < MAX_DEFERRED) {
        spent.add(ns);
        return;
      }
      stopped = closed;
    }
    if (stopped) {
      closeQuietly(ns); // not in the background: a closed pool's close() may have stopped waiting for those
    } else {
      inBackground(() -> closeQuietly(ns));
    }
  }

  /**
   * The stage that used namespaces has reported: tears down the used ones and makes the owed
   * replacements, in the background.
   */
  void catchUp() {
    List<SandboxNetwork.Namespace> used;
    synchronized (this) {
      used = new ArrayList<>(spent);
      spent.clear();
      owed = 0;
    }
    used.forEach(ns -> inBackground(() -> closeQuietly(ns)));
    refill();
  }

  /** How many namespaces are being made now (for tests). */
  synchronized int makingCount() {
    return making;
  }

  /** How many takes wait for a namespace being made (for tests). */
  synchronized int waitingCount() {
    return waiting;
  }

  /** How many used namespaces wait for {@link #catchUp()} (for tests). */
  synchronized int deferredCount() {
    return spent.size();
  }

  /** How many namespaces are ready now (for tests and metrics). */
  synchronized int readyCount() {
    return ready.size();
  }

  /**
   * Keeps {@code newSize} ready from now on: more are made in the background, ready ones over the new size are torn
   * down in the background.
   */
  void resize(int newSize) {
    if (newSize < 0) {
      throw new IllegalArgumentException("size " + newSize);
    }
    List<SandboxNetwork.Namespace> extra = new ArrayList<>();
    synchronized (this) {
      size = newSize;
      while (ready.size() > keep()) {
        extra.add(ready.pollLast());
      }
    }
    extra.forEach(ns -> inBackground(() -> closeQuietly(ns)));
    refill();
  }

  /** How many namespaces it keeps ready. */
  synchronized int size() {
    return size;
  }

  /**
   * Tears down the ready namespaces, fails the takes waiting for one, and waits for every take, teardown and making
   * in flight (a namespace a take or the refill makes meanwhile is torn down).
   */
  @Override
  public void close() {
    List<SandboxNetwork.Namespace> left;
    List<Thread> running;
    synchronized (this) {
      closed = true;
      left = new ArrayList<>(ready);
      left.addAll(spent);
      ready.clear();
      spent.clear();
      notifyAll(); // the waiting takes fail now, not when a namespace being made is done
    }
    left.forEach(NamespacePool::closeQuietly);
    synchronized (this) {
      while (taking > 0) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
    do {
      synchronized (this) {
        running = new ArrayList<>(background);
      }
      for (Thread t : running) {
        try {
          t.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    } while (!running.isEmpty());
  }

  private void refill() {
    synchronized (this) {
      // an owed replacement waits for the stage's report while a spare is ready; an on-demand pool whose spare is
      // gone makes what its stages' outstanding RUNs still need now (their count, not the pool's size, is its keep)
      int deferred = onDemand && ready.isEmpty() ? 0 : owed;
      if (closed || ready.size() + making + deferred >= keep()) {
        return;
      }
      making++;
    }
    inBackground(() -> {
      SandboxNetwork.Namespace ns = null;
      try {
        ns = network.create(nextFile());
      } catch (IOException e) {
        log.warn("preparing a RUN network failed (the next RUN makes its own): {}", e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      boolean kept = false;
      synchronized (this) {
        making--;
        if (ns != null && !closed) {
          ready.addLast(ns);
          kept = true;
        }
        notifyAll();
      }
      if (ns != null && !kept) {
        closeQuietly(ns);
      } else if (kept) {
        refill();
      }
    });
  }

  private void inBackground(Runnable task) {
    synchronized (this) {
      Thread[] self = new Thread[1];
      self[0] = Thread.ofVirtual().name("sandbox-pool").unstarted(() -> {
        try {
          task.run();
        } finally {
          synchronized (this) {
            background.remove(self[0]);
          }
        }
      });
      background.add(self[0]);
      self[0].start();
    }
  }

  private Path nextFile() throws IOException {
    Files.createDirectories(dir);
    return dir.resolve("ns-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet());
  }

  private static void closeQuietly(SandboxNetwork.Namespace ns) {
    try {
      ns.close();
    } catch (IOException e) {
      log.warn("tearing down a RUN network failed: {}", e.getMessage());
    }
  }
}
