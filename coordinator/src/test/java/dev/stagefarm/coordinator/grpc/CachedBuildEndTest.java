package dev.stagefarm.coordinator.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.ImageAssembler;
import dev.stagefarm.coordinator.plan.DockerfilePlanner;
import dev.stagefarm.coordinator.port.InMemoryBuildJournal;
import dev.stagefarm.coordinator.port.InMemoryCacheRecords;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.coordinator.port.InMemoryTaskQueue;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * SubmitBuild answers a build whose every stage came from the cache with its final status (the
 * client then makes no WatchBuild call), and only such a build, and never waits past its patience.
 */
class CachedBuildEndTest {
  static final String DIGEST = "sha256:" + "ab".repeat(32);
  /** Every stage complete from the cache: a stage without ops on an empty base. */
  static final String NO_OP = "FROM scratch\n";
  /** A stage with an op the (empty) cache has no record of: it goes to a worker. */
  static final String TO_RUN = "FROM scratch\nRUN true\n";

  final List<AutoCloseable> open = new ArrayList<>();
  final CountDownLatch assemblyMayEnd = new CountDownLatch(1);
  volatile boolean assemblyWaits;

  @AfterEach
  void closeAll() throws Exception {
    assemblyMayEnd.countDown();
    for (AutoCloseable closeable : open.reversed()) {
      closeable.close();
    }
  }

  BuildCoordinator coordinator() {
    ImageAssembler assembler = (target, tags, push) -> {
      if (assemblyWaits) {
        assemblyMayEnd.await(30, TimeUnit.SECONDS); // a slow push
      }
      return DIGEST;
    };
    InMemoryContentStore content = new InMemoryContentStore();
    BuildCoordinator coordinator = new BuildCoordinator(Clock.systemUTC(), BuildCoordinator.Settings.DEFAULT,
        new InMemoryTaskQueue(), new InMemoryBuildJournal(),
        new DockerfilePlanner(content, new InMemoryCacheRecords(), BuildServiceImplTest.NO_IMAGES), assembler);
    open.add(coordinator);
    return coordinator;
  }

  BuildServiceGrpc.BuildServiceBlockingStub client(BuildCoordinator coordinator) throws Exception {
    String name = InProcessServerBuilder.generateName();
    CoordinatorServer server = new CoordinatorServer(InProcessServerBuilder.forName(name).directExecutor(),
        new BuildServiceImpl(coordinator, new InMemoryContentStore(), (digest, format, tags, out) -> {},
            RequestLimits.DEFAULT, Path.of(System.getProperty("java.io.tmpdir")))).start();
    open.add(server);
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    open.add(channel::shutdownNow);
    return BuildServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  static SubmitBuildRequest request(String dockerfile) {
    return SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8(dockerfile)).build();
  }

  @Test
  void aBuildCompleteFromTheCacheIsAnsweredWithItsImage() throws Exception {
    BuildStatus answer = client(coordinator()).submitBuild(request(NO_OP));

    assertThat(answer.getState()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(answer.getImageDigest()).isEqualTo(DIGEST);
  }

  @Test
  void aBuildWithAStageToRunIsAnsweredAtOnceAndRunning() throws Exception {
    BuildCoordinator coordinator = coordinator();
    BuildStatus submitted = coordinator.submit(request(TO_RUN));
    assertThat(CachedBuildEnd.completeFromCache(submitted)).isFalse();

    long started = System.nanoTime();
    Duration patience = Duration.ofMinutes(2);
    BuildStatus answer = CachedBuildEnd.await(coordinator, submitted, patience);

    assertThat(answer).isSameAs(submitted);
    assertThat(answer.getState()).isEqualTo(BuildState.RUNNING);
    // not a speed assertion: only that it did not sit out its patience (a build with work never ends by itself here)
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(patience.dividedBy(2));
  }

  @Test
  void anAssemblyLongerThanThePatienceIsAnsweredRunningAndFollowedAsBefore() throws Exception {
    assemblyWaits = true;
    BuildCoordinator coordinator = coordinator();
    BuildStatus submitted = coordinator.submit(request(NO_OP));
    assertThat(CachedBuildEnd.completeFromCache(submitted)).isTrue();

    BuildStatus answer = CachedBuildEnd.await(coordinator, submitted, Duration.ofMillis(200));

    assertThat(answer.getState()).isEqualTo(BuildState.RUNNING);
    assemblyMayEnd.countDown();
    // once the assembly ends, the build ends as it always did
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (coordinator.status(submitted.getBuildId()).orElseThrow().getState() == BuildState.RUNNING
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(coordinator.status(submitted.getBuildId()).orElseThrow().getState()).isEqualTo(BuildState.SUCCEEDED);
  }

  @Test
  void aBuildThatAlreadyEndedIsAnsweredAsItIs() throws Exception {
    BuildCoordinator coordinator = coordinator();
    BuildStatus failed = coordinator.submit(request("FROM scratch\nFRM busybox\n"));

    assertThat(failed.getState()).isEqualTo(BuildState.FAILED);
    assertThat(CachedBuildEnd.await(coordinator, failed, Duration.ofSeconds(20))).isSameAs(failed);
  }
}
