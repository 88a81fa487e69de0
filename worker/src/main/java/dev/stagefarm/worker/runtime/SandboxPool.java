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
 * Sandbox networks made ahead of the RUNs that use them: a RUN takes a namespace whose slirp4netns is
 * already up (the {@code unshare}, {@code ip}, {@code sh}, {@code unshare}, {@code slirp4netns} processes and
 * the wait for slirp4netns's ready byte, 0.1–1 s on a loaded host, are then off the RUN's path), and a
 * replacement is made in the background while the RUN runs; the used one is torn down in the
 * background after its container ended.
 *
 * <p>A namespace serves exactly one RUN: {@link #take()} removes it from the pool, and it is never put
 * back (what a RUN left in it — sockets, neighbour entries — dies with it). A ready namespace whose
 * blocked destinations differ from the host's current addresses (the host gained or lost one since it
 * was made), or whose slirp4netns died, is discarded and a fresh one made for the taker. {@link #close()}
 * (worker stop) tears down the ready ones and waits for the teardowns in flight. A killed worker's
 * namespaces are mounts under its work dir, which the start-up cleanup removes; their slirp4netns
 * exits with the worker (its exit fd).
 */
public final class SandboxPool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxPool.class);
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private final SandboxNetwork network;
  private final Path dir;
  private final int size;
  private final Deque<SandboxNetwork.Namespace> ready = new ArrayDeque<>(); // guarded by this
  private final List<Thread> background = new ArrayList<>(); // guarded by this
  private int making; // guarded by this
  private boolean closed; // guarded by this

  /**
   * @param dir where the namespaces are bound (under the worker's work dir)
   * @param size how many to keep ready: the worker's slots (0: none, every RUN makes its own)
   */
  public SandboxPool(SandboxNetwork network, Path dir, int size) {
    if (size < 0) {
      throw new IllegalArgumentException("size " + size);
    }
    this.network = network;
    this.dir = dir;
    this.size = size;
  }

  /**
   * Removes what a killed predecessor left in the pool's dir (its namespaces are unmounted by the
   * worker's start-up cleanup; their files, batches and logs stay) and starts making the ready
   * namespaces in the background.
   */
  public SandboxPool start() throws IOException {
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
   */
  public SandboxNetwork.Namespace take() throws IOException, InterruptedException {
    SandboxNetwork.Namespace ns;
    synchronized (this) {
      if (closed) {
        throw new IOException("the worker is stopping");
      }
      // one being made started before this RUN: waiting for it is sooner than making another
      while (ready.isEmpty() && making > 0 && !closed) {
        wait();
      }
      ns = ready.pollFirst();
    }
    refill();
    if (ns != null && ns.alive() && ns.blocked().equals(SandboxNetwork.blockedDestinations())) {
      return ns;
    }
    if (ns != null) {
      release(ns); // the host's addresses changed (or its slirp4netns died): made again with today's routes
    }
    return network.create(nextFile());
  }

  /**
   * Tears {@code ns} down (its container has ended): in the background, or at once in a pool that keeps
   * none ready (then nothing would wait for the teardown at {@link #close()}'s time… nor need to).
   */
  public void release(SandboxNetwork.Namespace ns) {
    if (size == 0) {
      closeQuietly(ns);
    } else {
      inBackground(() -> closeQuietly(ns));
    }
  }

  /** How many namespaces are ready now (for tests and metrics). */
  public synchronized int readyCount() {
    return ready.size();
  }

  /** Tears down the ready namespaces and waits for every teardown and making in flight. */
  @Override
  public void close() {
    List<SandboxNetwork.Namespace> left;
    List<Thread> running;
    synchronized (this) {
      closed = true;
      left = new ArrayList<>(ready);
      ready.clear();
    }
    left.forEach(SandboxPool::closeQuietly);
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
      if (closed || ready.size() + making >= size) {
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
