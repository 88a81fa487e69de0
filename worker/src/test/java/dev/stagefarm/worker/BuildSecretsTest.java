package dev.stagefarm.worker;

import static dev.stagefarm.worker.ProgramBuilder.exec;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.Mount;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Build secrets through a real worker, Kafka and S3: a task reads only the secrets sealed for its
 * own build. A task that names another build's secrets (or whose build has none left) fails its
 * stage with a clear error instead of reading them.
 */
class BuildSecretsTest {
  private static final String VALUE = "build-a-secret-5be1";
  private static final Mount.Secret TOKEN = new Mount.Secret("/run/secrets/token", "token", "", true,
      OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
  private static StageHarness farm;

  @BeforeAll
  static void start() throws Exception {
    farm = new StageHarness(1);
  }

  @AfterAll
  static void stop() {
    farm.close();
  }

  private static StageProgram readsToken() {
    return program().run(exec("cp /run/secrets/token /copied && echo \"got $(cat /run/secrets/token)\"")
        .mount(TOKEN)).build();
  }

  @Test
  void aTaskReadsTheSecretsSealedForItsBuildAndItsLogMasksThem() throws Exception {
    StageTask task = farm.withSecrets(farm.task(readsToken(), farm.busybox()), Map.of("token", VALUE));
    ImageState result = StageHarness.completed(farm.run(task));
    assertThat(Files.readString(farm.unpack(result).resolve("copied"))).isEqualTo(VALUE);
    String log = farm.events(task.getBuildId()).stream().filter(StageEvent::hasLog)
        .map(e -> e.getLog().getData().toString(StandardCharsets.UTF_8)).reduce("", String::concat);
    assertThat(log).contains("got ****").doesNotContain(VALUE);
  }

  @Test
  void aTaskCannotReadAnotherBuildsSecretsEvenWhenTheyAreCopiedUnderItsName() throws Exception {
    StageTask victim = farm.withSecrets(farm.task(readsToken(), farm.busybox()), Map.of("token", VALUE));
    StageTask.Builder attacker = farm.task(readsToken(), farm.busybox());
    byte[] stolen = farm.store.getSealed("secrets/" + victim.getBuildId(), 1 << 20).orElseThrow();
    farm.store.putSealed("secrets/" + attacker.getBuildId(), stolen);
    StageEvent event = farm.run(attacker.setBuildSecrets(true).build());
    assertThat(event.hasFailed()).isTrue();
    assertThat(event.getFailed().getMessage())
        .contains("the build's secrets cannot be opened", "not build " + attacker.getBuildId() + "'s");
    assertThat(event.getFailed().getRetriable()).isFalse();
  }

  @Test
  void aTaskOfABuildWhoseSecretsAreGoneFailsNamingWhy() throws Exception {
    StageEvent event = farm.run(farm.task(readsToken(), farm.busybox()).setBuildSecrets(true).build());
    assertThat(event.getFailed().getMessage()).contains("are no longer in the store (the build has ended)");
  }

  @Test
  void aTaskOfABuildWithoutSecretsGetsNoneAndARequiredMountFails() throws Exception {
    StageEvent event = farm.run(farm.task(readsToken(), farm.busybox()).build());
    assertThat(event.getFailed().getMessage()).contains("secret token is required but the build did not send it");
  }
}
