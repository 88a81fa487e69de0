package dev.stagefarm.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sandbox networks made ahead of their RUNs, for real (unshare, ip, slirp4netns; we are root). */
class SandboxPoolTest {
  @TempDir Path dir;

  @BeforeEach
  void needsSlirp() {
    assumeTrue(SandboxNetwork.available("slirp4netns"), "slirp4netns not installed");
  }

  @Test
  void aNamespaceGoesToOneRunOnlyEvenWhenRunsTakeAtOnce() throws Exception {
    List<SandboxNetwork.Namespace> taken = new ArrayList<>();
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 2).start();
        ExecutorService runs = Executors.newVirtualThreadPerTaskExecutor()) {
      awaitReady(pool, 2);
      List<Future<SandboxNetwork.Namespace>> takes = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        takes.add(runs.submit((Callable<SandboxNetwork.Namespace>) pool::take)); // 2 ready, 4 made while taken
      }
      for (Future<SandboxNetwork.Namespace> f : takes) {
        taken.add(f.get());
      }
      Set<Path> files = new HashSet<>();
      Set<Object> namespaces = new HashSet<>();
      for (SandboxNetwork.Namespace ns : taken) {
        files.add(ns.path());
        namespaces.add(Files.getAttribute(ns.path(), "unix:ino")); // the bound nsfs inode: the namespace itself
        assertThat(ns.alive()).isTrue();
      }
      assertThat(files).hasSize(6);
      assertThat(namespaces).as("six RUNs, six network namespaces").hasSize(6);
      taken.forEach(pool::release);
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
  }

  @Test
  void aTakenNamespaceHasItsBlockedRoutesAndOutboundRouteInPlace() throws Exception {
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 1).start()) {
      awaitReady(pool, 1);
      SandboxNetwork.Namespace ns = pool.take();
      try {
        String routes = HostProcess.run(List.of("nsenter", "--net=" + ns.path(), "ip", "route"), null);
        assertThat(routes).contains("unreachable " + SandboxNetwork.LINK_LOCAL, "default via 10.0.2.2");
        for (String blocked : SandboxNetwork.blockedDestinations()) {
          assertThat(routes).contains("unreachable " + blocked.replace("/32", ""));
        }
        assertThat(ns.blocked()).isEqualTo(SandboxNetwork.blockedDestinations());
      } finally {
        pool.release(ns);
      }
    }
  }

  @Test
  void stoppingThePoolTearsDownTheReadyNamespacesAndTheirSlirp4netns() throws Exception {
    SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 2).start();
    awaitReady(pool, 2);
    assertThat(Mounts.mountPointsUnder(dir)).hasSize(2);
    assertThat(slirps()).isGreaterThanOrEqualTo(2);

    pool.close();

    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    assertThat(slirps()).isZero();
    try (var files = Files.list(dir.resolve("netns"))) {
      assertThat(files.toList()).as("no namespace file, batch or log left").isEmpty();
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(pool::take).hasMessageContaining("stopping");
  }

  @Test
  void aRunThatLeavesASpareGetsItsTeardownAndReplacementOnlyAfterTheStageReported() throws Exception {
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 2).start()) {
      awaitReady(pool, 2);
      SandboxNetwork.Namespace used = pool.take();
      assertThat(pool.readyCount()).isEqualTo(1);
      assertThat(pool.makingCount()).as("no replacement made while the spare is ready").isZero();
      pool.release(used);
      assertThat(pool.deferredCount()).isEqualTo(1);
      assertThat(used.alive()).as("not torn down while its stage has not reported").isTrue();
      assertThat(Mounts.mountPointsUnder(dir)).contains(used.path());

      pool.catchUp();

      awaitReady(pool, 2);
      assertThat(pool.deferredCount()).isZero();
      for (int i = 0; i < 1200 && Files.exists(used.path()); i++) {
        Thread.sleep(50);
      }
      assertThat(used.path()).doesNotExist();
      assertThat(Mounts.mountPointsUnder(dir)).doesNotContain(used.path()).hasSize(2);
    }
  }

  @Test
  void aRunThatTakesTheLastReadyNamespaceGetsItsReplacementMadeAtOnce() throws Exception {
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 1).start()) {
      awaitReady(pool, 1);
      SandboxNetwork.Namespace first = pool.take();
      awaitReady(pool, 1); // without catchUp: the stage's next RUN will want it
      pool.release(first);
    }
  }

  @Test
  void atMostMaxDeferredUsedNamespacesWaitAndStoppingTearsThemDown() throws Exception {
    SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 1).start();
    List<SandboxNetwork.Namespace> used = new ArrayList<>();
    for (int i = 0; i <= SandboxPool.MAX_DEFERRED; i++) {
      used.add(pool.take());
    }
    used.forEach(pool::release);
    assertThat(pool.deferredCount()).isEqualTo(SandboxPool.MAX_DEFERRED);

    pool.close();

    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    assertThat(slirps()).isZero();
  }

  @Test
  void anOnDemandPoolMakesNoNamespaceUntilAStageIsAboutToRunThenKeepsItsSizeReady() throws Exception {
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 2, true).start()) {
      pool.catchUp(); // a stage without RUNs reported: still nothing to make
      assertThat(pool.makingCount()).isZero();
      assertThat(pool.readyCount()).isZero();
      assertThat(Mounts.mountPointsUnder(dir)).as("no namespace made at start").isEmpty();
      assertThat(slirps()).isZero();

      pool.prepare(1); // a stage of one RUN: no spare
      awaitReady(pool, 1);
      Thread.sleep(300);
      assertThat(pool.readyCount() + pool.makingCount()).as("one, not the pool's size").isEqualTo(1);

      pool.prepare(5); // a stage of five RUNs: as many as the pool's size
      awaitReady(pool, 2);
      SandboxNetwork.Namespace used = pool.take();
      pool.release(used);
      pool.catchUp();
      awaitReady(pool, 2); // refilled as an eager pool is
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
  }

  @Test
  void anOnDemandPoolsRunWithoutPrepareGetsANamespaceMadeForItAndNoneIsKeptAfter() throws Exception {
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 1, true).start()) {
      SandboxNetwork.Namespace first = pool.take(); // made for the taker, as with an empty eager pool
      assertThat(first.alive()).isTrue();
      Thread.sleep(300);
      assertThat(pool.readyCount() + pool.makingCount()).as("no RUN announced: nothing kept ready").isZero();
      pool.release(first);
    }
  }

  @Test
  void anOnDemandPoolMakesNoReplacementForTheLastRunItsStageAnnounced() throws Exception {
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 2, true).start()) {
      pool.prepare(1); // a one-shot worker's stage of one RUN (fanout32: 32 of them)
      awaitReady(pool, 1);
      SandboxNetwork.Namespace used = pool.take();
      Thread.sleep(300);
      assertThat(pool.readyCount() + pool.makingCount()).as("no replacement while the RUN starts").isZero();
      pool.release(used);
      pool.stageEnded();
      pool.catchUp(); // the stage reported: its namespace is torn down, none is made
      awaitSlirps(0);
      Thread.sleep(300);
      assertThat(pool.readyCount() + pool.makingCount()).isZero();
      assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    }
  }

  @Test
  void anOnDemandPoolMakesWhatAStageOfMoreRunsThanItsSizeStillNeedsAndNothingPastItsLast() throws Exception {
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 2, true).start()) {
      pool.prepare(3);
      awaitReady(pool, 2);
      List<SandboxNetwork.Namespace> taken = new ArrayList<>();
      taken.add(pool.take()); // a spare is left: its replacement is owed
      Thread.sleep(300);
      assertThat(pool.readyCount() + pool.makingCount()).isEqualTo(1);
      taken.add(pool.take()); // the spare is gone, one RUN is still to come: made now
      taken.add(pool.take());
      Thread.sleep(300);
      assertThat(pool.readyCount() + pool.makingCount()).as("after the stage's last RUN").isZero();
      assertThat(taken.stream().map(SandboxNetwork.Namespace::path).distinct()).hasSize(3);
      taken.forEach(pool::release);
      pool.stageEnded();
      pool.catchUp();
      Thread.sleep(300);
      assertThat(pool.readyCount() + pool.makingCount()).as("the owed replacement is not made either").isZero();
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
  }

  @Test
  void anOnDemandPoolsStageWhoseRunsWereCachedLeavesItsNamespacesReadyForALaterStageAndAsksForNoMore()
      throws Exception {
    try (SandboxPool pool = new SandboxPool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 2, true).start()) {
      pool.prepare(2);
      awaitReady(pool, 2);
      pool.stageEnded(); // both RUNs cached: none taken
      pool.catchUp();
      SandboxNetwork.Namespace later = pool.take(); // a later stage's RUN takes a ready one
      Thread.sleep(300);
      assertThat(pool.readyCount()).isEqualTo(1);
      assertThat(pool.makingCount()).as("nothing announced now: no replacement").isZero();
      pool.release(later);
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
  }

  @Test
  void aReadyNamespaceWhoseCheckCannotReadTheHostsAddressesIsTornDownAndTheRunGetsAFreshOne() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean unreadable = new java.util.concurrent.atomic.AtomicBoolean();
    NamespacePool.BlockedDestinations addresses = () -> {
      if (unreadable.get()) {
        throw new java.net.SocketException("no interfaces for you"); // as NetworkInterface may
      }
      return SandboxNetwork.blockedDestinations();
    };
    try (NamespacePool pool =
        new NamespacePool(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 1, false, addresses).start()) {
      for (int i = 0; i < 1200 && pool.readyCount() < 1; i++) {
        Thread.sleep(50);
      }
      assertThat(pool.readyCount()).isEqualTo(1);
      List<Path> ready = Mounts.mountPointsUnder(dir);
      assertThat(ready).hasSize(1);
      unreadable.set(true);

      SandboxNetwork.Namespace taken = pool.take();

      assertThat(taken.path()).as("not the unchecked one").isNotEqualTo(ready.get(0));
      assertThat(taken.alive()).isTrue();
      for (int i = 0; i < 1200 && Files.exists(ready.get(0)); i++) {
        Thread.sleep(50);
      }
      assertThat(ready.get(0)).as("the unchecked namespace torn down, not leaked").doesNotExist();
      assertThat(Mounts.mountPointsUnder(dir)).doesNotContain(ready.get(0));
      pool.release(taken);
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    assertThat(slirps()).isZero();
  }

  @Test
  void startingRemovesWhatAKilledPredecessorLeftInItsDir() throws Exception {
    Path pool = Files.createDirectories(dir.resolve("netns"));
    Files.writeString(pool.resolve("ns-1-1"), ""); // unmounted by the worker's start-up cleanup, file left
    Files.writeString(pool.resolve("ns-1-1.slirp4netns.log"), "old");
    try (SandboxPool started = new SandboxPool(new SandboxNetwork("slirp4netns"), pool, 0).start()) {
      try (var files = Files.list(pool)) {
        assertThat(files.toList()).isEmpty();
      }
    }
  }

  @Test
  void workersOfAProcessShareOnePoolOfABurstsWorthAndASpareAndTheLastToLeaveTearsItDown() throws Exception {
    Path shared = dir.resolve("netns");
    List<SandboxPool> workers = new ArrayList<>();
    try {
      for (int i = 0; i < 12; i++) {
        workers.add(SandboxPool.shared(new SandboxNetwork("slirp4netns"), shared, 1));
      }
      SandboxPool first = workers.get(0);
      assertThat(first.size()).isEqualTo(SandboxPool.SHARED_BURST + 1);
      awaitReady(first, SandboxPool.SHARED_BURST + 1);
      assertThat(slirps()).as("12 single-slot workers, one burst's worth and a spare").isEqualTo(
          SandboxPool.SHARED_BURST + 1);

      SandboxNetwork.Namespace taken = workers.get(5).take();
      assertThat(first.readyCount()).as("one pool: a take by one worker is seen by all").isEqualTo(
          SandboxPool.SHARED_BURST);
      workers.get(5).release(taken);
      workers.get(7).catchUp(); // any worker's report catches up
      awaitReady(first, SandboxPool.SHARED_BURST + 1);

      while (workers.size() > 2) {
        workers.remove(workers.size() - 1).close();
      }
      assertThat(first.size()).as("two single-slot workers left").isEqualTo(3);
      awaitReady(first, 3);
      awaitSlirps(3);
    } finally {
      workers.forEach(SandboxPool::close);
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    assertThat(slirps()).isZero();
    try (var files = Files.list(shared)) {
      assertThat(files.toList()).as("no namespace file, batch or log left").isEmpty();
    }
  }

  @Test
  void aBurstOfRunsPastTheReadyOnesGetsDistinctNamespacesMadeForThem() throws Exception {
    List<SandboxPool> workers = new ArrayList<>();
    List<SandboxNetwork.Namespace> taken = new ArrayList<>();
    try (ExecutorService runs = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 2; i++) {
        workers.add(SandboxPool.shared(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 1));
      }
      awaitReady(workers.get(0), 3);
      List<Future<SandboxNetwork.Namespace>> takes = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        SandboxPool worker = workers.get(i % 2);
        takes.add(runs.submit((Callable<SandboxNetwork.Namespace>) worker::take)); // 3 ready, 5 made while taken
      }
      for (Future<SandboxNetwork.Namespace> f : takes) {
        taken.add(f.get());
      }
      Set<Object> namespaces = new HashSet<>();
      for (SandboxNetwork.Namespace ns : taken) {
        namespaces.add(Files.getAttribute(ns.path(), "unix:ino"));
        assertThat(ns.alive()).isTrue();
      }
      assertThat(namespaces).as("eight RUNs, eight network namespaces").hasSize(8);
      taken.forEach(workers.get(0)::release);
    } finally {
      workers.forEach(SandboxPool::close);
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    assertThat(slirps()).isZero();
  }

  @Test
  void aWorkerClosedTwiceLeavesTheSharedPoolOnceAndGetsNoNetworkFromItThoughOthersStillUseIt() throws Exception {
    SandboxPool one = SandboxPool.shared(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 1);
    SandboxPool two = SandboxPool.shared(new SandboxNetwork("slirp4netns"), dir.resolve("netns"), 1);
    try {
      one.close();
      one.close();
      assertThat(two.size()).isEqualTo(2);
      assertThatThrownBy(one::take).hasMessageContaining("left").hasMessageContaining("stopping");
      awaitReady(two, 2);
      SandboxNetwork.Namespace ns = two.take();
      assertThat(ns.alive()).isTrue();
      two.release(ns);
    } finally {
      two.close();
    }
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
  }

  @Test
  void eachPoolKindOpensItsPool() throws Exception {
    SandboxNetwork network = new SandboxNetwork("slirp4netns");
    try (SandboxPool own = RunNetworkPool.ownAtStart().open(network, dir.resolve("own"), 2);
        SandboxPool onDemand = RunNetworkPool.ownOnDemand().open(network, dir.resolve("on-demand"), 2);
        SandboxPool one = RunNetworkPool.sharedIn(dir.resolve("shared")).open(network, dir.resolve("unused-1"), 1);
        SandboxPool two = RunNetworkPool.sharedIn(dir.resolve("shared")).open(network, dir.resolve("unused-2"), 1)) {
      assertThat(own.size()).as("its slots and a spare").isEqualTo(3);
      awaitReady(own, 3);
      assertThat(onDemand.size()).isEqualTo(3);
      assertThat(onDemand.readyCount() + onDemand.makingCount()).as("none made before a stage prepares").isZero();
      awaitReady(one, 3);
      assertThat(two.readyCount()).as("one pool for both workers: two slots and a spare").isEqualTo(3);
      assertThat(Mounts.mountPointsUnder(dir.resolve("shared"))).hasSize(3);
    }
    assertThat(dir.resolve("unused-1")).as("a shared pool's worker binds nothing in its own dir").doesNotExist();
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
  }

  @Test
  void aRunWaitingForANamespaceWhenThePoolClosesFailsAndNoNetworkIsMadeForIt() throws Exception {
    GatedSlirp slirp = new GatedSlirp(dir);
    NamespacePool pool = new NamespacePool(new SandboxNetwork(slirp.path().toString()), dir.resolve("netns"), 1);
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      pool.start(); // its one namespace is being made, held at the gate
      slirp.awaitStarts(1);
      Future<SandboxNetwork.Namespace> take = threads.submit(pool::take); // waits for the one being made
      awaitWaiting(pool, 1);
      Future<?> close = threads.submit(pool::close);

      assertThatThrownBy(() -> take.get(30, TimeUnit.SECONDS))
          .as("failed while the namespace it waited for is still being made").hasRootCauseInstanceOf(IOException.class)
          .rootCause().hasMessageContaining("closed").hasMessageContaining("stopping")
          .hasMessageContaining(dir.resolve("netns").toString());
      slirp.open();
      close.get(30, TimeUnit.SECONDS);
    }
    assertThat(slirp.starts()).as("only the pool's own namespace was made, none for the failed RUN").isEqualTo(1);
    assertThat(Mounts.mountPointsUnder(dir)).isEmpty();
    assertThat(slirps()).isZero();
  }

  @Test
  void aNamespaceATakeWasMakingAsThePoolClosedIsTornDownBeforeCloseReturns() throws Exception {
    GatedSlirp slirp = new GatedSlirp(dir);
    // keeps none ready: the take makes its own, as a RUN past the ready ones does
    NamespacePool pool = new NamespacePool(new SandboxNetwork(slirp.path().toString()), dir.resolve("netns"), 0)
        .start();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<SandboxNetwork.Namespace> take = threads.submit(pool::take);
      slirp.awaitStarts(1); // its namespace is bound, its slirp4netns held at the gate
      Future<?> close = threads.submit(pool::close);
      Thread.sleep(300);
      assertThat(close.isDone()).as("close waits for the take making a namespace").isFalse();

      slirp.open();
      close.get(30, TimeUnit.SECONDS);
      assertThat(Mounts.mountPointsUnder(dir)).as("torn down by the time close returned").isEmpty();
      assertThat(slirps()).isZero();
      assertThatThrownBy(() -> take.get(30, TimeUnit.SECONDS)).hasRootCauseInstanceOf(IOException.class)
          .rootCause().hasMessageContaining("stopping");
    }
    assertThatThrownBy(pool::take).as("a take after close makes none").hasMessageContaining("stopping");
    assertThat(slirp.starts()).isEqualTo(1);
  }

  /**
   * slirp4netns behind a gate: each start is counted, and waits until the test opens the gate (the pool's making
   * of a namespace held still, well within its 10 s wait for slirp4netns's ready byte).
   */
  private record GatedSlirp(Path path, Path gate, Path started) {
    GatedSlirp(Path dir) throws IOException {
      this(dir.resolve("slirp4netns-gated"), dir.resolve("gate"), dir.resolve("started"));
      Files.writeString(path, "#!/bin/sh\necho started >> '" + started + "'\n"
          + "while [ ! -e '" + gate + "' ]; do sleep 0.05; done\nexec slirp4netns \"$@\"\n");
      Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    void open() throws IOException {
      Files.writeString(gate, "");
    }

    long starts() throws IOException {
      return Files.exists(started) ? Files.readAllLines(started).size() : 0;
    }

    void awaitStarts(int n) throws Exception {
      for (int i = 0; i < 1200 && starts() < n; i++) {
        Thread.sleep(25);
      }
      assertThat(starts()).isEqualTo(n);
    }
  }

  private static void awaitWaiting(NamespacePool pool, int n) throws InterruptedException {
    for (int i = 0; i < 1200 && pool.waitingCount() < n; i++) {
      Thread.sleep(25);
    }
    assertThat(pool.waitingCount()).isEqualTo(n);
  }

  private void awaitSlirps(int n) throws InterruptedException {
    for (int i = 0; i < 1200 && slirps() != n; i++) {
      Thread.sleep(50);
    }
    assertThat(slirps()).isEqualTo(n);
  }

  /** This test's slirp4netns processes (their namespace is under its dir; other tests of the JVM run RUNs too). */
  private long slirps() {
    return ProcessHandle.current().descendants()
        .filter(p -> p.isAlive() && p.info().command().map(c -> c.endsWith("slirp4netns")).orElse(false))
        .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(dir.toString())).orElse(false))
        .count();
  }

  /** Waits for the background making; bounded only to turn a hang into a failure. */
  private static void awaitReady(SandboxPool pool, int n) throws InterruptedException {
    for (int i = 0; i < 1200 && pool.readyCount() < n; i++) {
      Thread.sleep(50);
    }
    assertThat(pool.readyCount()).isEqualTo(n);
  }
}
