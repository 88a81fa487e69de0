package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.coordinator.Retention;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.TempDirectories;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test of the suite (tag {@code bench}, run by {@code bench/coordinator-heap.sh}):
 * 10,000 small builds through one coordinator (a real embedded farm: Kafka, S3, coordinator, two
 * workers), printing the JVM's heap after a full GC every thousand builds, and how many builds the
 * coordinator holds. The first build runs its RUN on a worker; every later one is answered from the
 * cache at planning, so what grows, if anything, is the coordinator's own state (build records,
 * progress logs, summaries, scheduler state). Retention is short (details 5 s, summaries 30 s or
 * 1,000), as a farm that runs this many builds would set it.
 */
@Tag("bench")
class CoordinatorHeapBench {
  private static final int BUILDS = Integer.getInteger("stagefarm.bench.builds", 10_000);
  private static final int EVERY = Math.max(1, Math.min(1_000, BUILDS / 10));

  @Test
  void theCoordinatorsHeapStaysFlatOverTenThousandBuilds() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    Retention retention = new Retention(Duration.ofSeconds(5), Duration.ofSeconds(30), 1_000, Duration.ofSeconds(1));
    try (EmbeddedFarm farm = PrivateFarm.start(TempDirectories.createDeletedAtExit("stagefarm-heap-bench-"), 2,
        PrivateFarm.COORDINATOR.withRetention(retention), 0, InProcessWorkers.launcher())) {
      BuildClient client = new BuildClient(farm.channel(), farm.endpoint());
      SubmitBuildRequest request = SubmitBuildRequest.newBuilder()
          .setDockerfile(ByteString.copyFromUtf8("FROM " + busybox + "\nRUN echo heap-bench > /f\n"))
          .setDockerfileName("Dockerfile")
          .build();
      MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
      System.out.printf("%8s %10s %12s %12s%n", "builds", "heap MiB", "held builds", "seconds");
      long started = System.nanoTime();
      for (int i = 1; i <= BUILDS; i++) {
        BuildStatus submitted = client.submit(request);
        BuildStatus finished =
            BuildClient.isFinalState(submitted) ? submitted : client.watch(submitted.getBuildId(), p -> {});
        assertThat(finished.getState()).as(finished.getError()).isEqualTo(BuildState.SUCCEEDED);
        if (i % EVERY == 0 || i == BUILDS) {
          System.gc();
          long heapMiB = memory.getHeapMemoryUsage().getUsed() >> 20;
          int held = farm.coordinator().coordinator().list().size();
          System.out.printf("%8d %10d %12d %12.1f%n", i, heapMiB, held, (System.nanoTime() - started) / 1e9);
          System.out.flush();
          started = System.nanoTime();
        }
      }
    }
  }
}
