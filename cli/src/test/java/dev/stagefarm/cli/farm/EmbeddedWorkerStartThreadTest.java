package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.oci.registry.RegistrySettings;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedded farm's workers start on platform threads of their own, never on the virtual threads' carriers: a
 * worker's start is CPU work (JIT-cold in a one-shot), and 32 of them on the 2 carriers of a 2-core host held back
 * every stage's virtual thread until the last had started (bench/README.md, "Session 13").
 */
class EmbeddedWorkerStartThreadTest {
  @TempDir Path home;

  @Test
  void eachWorkerStartsOnAPlatformThreadOfItsOwn() throws Exception {
    List<Thread> starters = new CopyOnWriteArrayList<>();
    EmbeddedFarm.Options options = new EmbeddedFarm.Options(home, null, 3, RegistrySettings.defaults(),
        EmbeddedKafka.Settings.forTests(), BuildCoordinator.Settings.DEFAULT, EmbeddedFarm.IN_PROCESS, config -> {
          starters.add(Thread.currentThread());
          return () -> { };
        });
    try (EmbeddedFarm farm = EmbeddedFarm.startWithoutBroker(options)) {
      assertThat(starters).hasSize(3);
      assertThat(starters).noneMatch(Thread::isVirtual);
      assertThat(starters).doesNotHaveDuplicates();
      assertThat(starters).allSatisfy(t -> assertThat(t.getName()).startsWith("stagefarm-worker-start-"));
    }
  }
}
