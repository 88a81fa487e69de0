package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A worker's sandbox networks made ahead of its RUNs (how: {@link NamespacePool}): a RUN {@link #take()}s one, gives
 * it back with {@link #release} once its container has ended (it is torn down, never handed on), and the worker
 * calls {@link #catchUp()} when a stage has reported.
 *
 * <p>Either the worker's own pool ({@link #SandboxPool(SandboxNetwork, Path, int)}: its slots and a spare), or one
 * pool shared by the workers of this process that name the same directory ({@link #shared}: the embedded farms', 32
 * single-slot workers in the local farm). Each ready namespace keeps a slirp4netns process (~5 MB resident), so 32
 * workers with a pool each kept 64 of them; the shared pool keeps ready what a burst of {@link #SHARED_BURST} RUNs
 * starting at once takes, and a spare, however many workers share it. RUNs past the burst make their networks as they
 * start, side by side (0.1–1 s each on a loaded host).
 */
public final class SandboxPool implements AutoCloseable {
  /** How many RUNs starting at once a shared pool serves from namespaces made ahead (and one spare beyond). */
  public static final int SHARED_BURST = 8;
  /** How many used namespaces may wait for {@link #catchUp()} (each keeps a slirp4netns process). */
  public static final int MAX_DEFERRED = NamespacePool.MAX_DEFERRED;

  /** The shared pools of this process by directory. Guarded by itself. */
  private static final Map<Path, Shared> SHARED = new HashMap<>();

  private final NamespacePool pool;
  /** Null for the worker's own pool; else the share it leaves at {@link #close()}. */
  private final Path sharedDir;
  private final int slots;
  private boolean closed; // guarded by this

  /**
   * The worker's own pool; {@link #start()} it.
   *
   * @param dir where the namespaces are bound (under the worker's work dir)
   * @param size how many to keep ready: the worker's slots and one spare (0: none, every RUN makes its own)
   */
  public SandboxPool(SandboxNetwork network, Path dir, int size) {
    this(network, dir, size, false);
  }

  /**
   * The worker's own pool; {@link #start()} it.
   *
   * @param onDemand whether the namespaces are made only once a stage is about to run ({@link #prepare(int)}), not
   *     at {@link #start()}: the one-shot farm's workers, most of which never run a RUN (a cached build runs
   *     no stage at all), and whose start is on the build's path (bench/README.md, "Session 10, the one-shot")
   */
  public SandboxPool(SandboxNetwork network, Path dir, int size, boolean onDemand) {
    this(new NamespacePool(network, dir, size, onDemand), null, 0);
  }

  private SandboxPool(NamespacePool pool, Path sharedDir, int slots) {
    this.pool = pool;
    this.sharedDir = sharedDir;
    this.slots = slots;
  }

  /**
   * Joins the pool in {@code dir} shared by the workers of this process (started by the first to join: it removes
   * what a killed predecessor left there), adding {@code slots} to what it keeps ready, up to {@link #SHARED_BURST}
   * and a spare. {@link #close()} leaves it; the last to leave tears it down.
   *
   * @param dir beside the work dirs of the workers that share it (not under one: a worker's start-up cleanup would
   *     unmount the others' namespaces)
   */
  public static SandboxPool shared(SandboxNetwork network, Path dir, int slots) throws IOException {
    if (slots < 1) {
      throw new IllegalArgumentException("slots " + slots);
    }
    Path key = dir.toAbsolutePath().normalize();
    synchronized (SHARED) {
      Shared share = SHARED.get(key);
      if (share == null) {
        share = new Shared(new NamespacePool(network, key, readyFor(slots)).start());
        SHARED.put(key, share);
      } else {
        share.pool.resize(readyFor(share.slots + slots));
      }
      share.slots += slots;
      share.users++;
      return new SandboxPool(share.pool, key, slots);
    }
  }

  /** What a shared pool keeps ready for the slots of its workers: up to a burst, and a spare. */
  static int readyFor(int slots) {
    return Math.min(slots, SHARED_BURST) + 1;
  }

  /** Starts making the ready namespaces of the worker's own pool (a shared one is started when it is made). */
  public SandboxPool start() throws IOException {
    if (sharedDir == null) {
      pool.start();
    }
    return this;
  }

  /**
   * A stage with {@code runs} sandboxed RUNs is about to start: an on-demand pool keeps ready as many as the running
   * stages' RUNs that have not taken one yet (up to its size; a stage of one RUN gets no spare, and its RUN's take
   * no replacement), made while the stage's base is materialised. An eager pool (its own or a shared one) keeps its
   * size ready anyway. Call {@link #stageEnded()} once that stage has ended, whatever happened.
   */
  public void prepare(int runs) {
    pool.prepare(runs);
  }

  /** A stage {@link #prepare}d has ended: once none runs, an on-demand pool makes nothing for its untaken RUNs. */
  public void stageEnded() {
    pool.stageEnded();
  }

  /**
   * A namespace for one RUN, not handed to anyone else; the caller gives it back with {@link #release} once its
   * container has ended.
   *
   * @throws IOException when this worker's pool is closed (the worker is stopping): no network is made for it
   */
  public SandboxNetwork.Namespace take() throws IOException, InterruptedException {
    synchronized (this) {
      if (closed && sharedDir != null) {
        // a shared pool outlives the worker that left it: its stop must still end its RUNs' takes (its own pool
        // fails them itself)
        throw new IOException("this worker left the RUN network pool in " + sharedDir + ": the worker is stopping");
      }
    }
    return pool.take();
  }

  /** Tears {@code ns} down (its container has ended), at {@link #catchUp()} or in the background. */
  public void release(SandboxNetwork.Namespace ns) {
    pool.release(ns);
  }

  /**
   * A stage that used namespaces has reported: tears down the used ones and makes the owed replacements, in the
   * background (in a shared pool, those of every worker's stages).
   */
  public void catchUp() {
    pool.catchUp();
  }

  /** How many namespaces are being made now (for tests). */
  public int makingCount() {
    return pool.makingCount();
  }

  /** How many used namespaces wait for {@link #catchUp()} (for tests). */
  public int deferredCount() {
    return pool.deferredCount();
  }

  /** How many namespaces are ready now (for tests and metrics). */
  public int readyCount() {
    return pool.readyCount();
  }

  /** How many namespaces the pool keeps ready (for tests). */
  public int size() {
    return pool.size();
  }

  /**
   * Worker stop: its own pool tears down the ready namespaces and waits for every teardown and making in flight; a
   * shared one keeps ready only what the workers still in it need, and the last worker to leave tears it down.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (sharedDir == null) {
      pool.close();
      return;
    }
    synchronized (SHARED) {
      Shared share = SHARED.get(sharedDir);
      share.slots -= slots;
      if (--share.users == 0) {
        SHARED.remove(sharedDir);
        // under the lock: a worker joining anew waits, so the new pool's start does not clean the dir while the
        // old one's namespaces are being torn down in it
        pool.close();
      } else {
        share.pool.resize(readyFor(share.slots));
      }
    }
  }

  /** A pool of this process and the workers in it. */
  private static final class Shared {
    final NamespacePool pool;
    int slots;
    int users;

    Shared(NamespacePool pool) {
      this.pool = pool;
    }
  }
}
