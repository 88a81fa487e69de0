package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.HistoryEntry;
import dev.stagefarm.oci.image.ImageConfig;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigFoldTest {

  @Test
  void aStageWithoutPathGetsBuildKitsDefaultPath() {
    ImageConfig start = ConfigFold.start(ImageConfig.scratch(Platform.LINUX_AMD64));

    assertThat(start.config().env()).containsExactly("PATH=" + ConfigFold.DEFAULT_PATH);
  }

  @Test
  void aBasePathIsKeptAndTriggersAreNotInherited() {
    ImageConfig base = ImageConfig.scratch(Platform.LINUX_AMD64)
        .updateConfig(c -> c.withEnv("PATH", "/opt/bin").withOnBuildTrigger("RUN true"));

    ImageConfig start = ConfigFold.start(base);

    assertThat(start.config().env()).containsExactly("PATH=/opt/bin");
    assertThat(start.config().onBuild()).isEmpty();
  }

  @Test
  void entrypointClearsAnInheritedCmdOnlyWhenTheOpSaysSo() {
    ImageConfig base = ImageConfig.scratch(Platform.LINUX_AMD64).updateConfig(c -> c.withCmd(Optional.of(List.of("x"))));
    Op reset = Op.metadata(new OpSource(2, "ENTRYPOINT [\"e\"]", "ENTRYPOINT"), "ENTRYPOINT [\"e\"]",
        ConfigDelta.NONE.withEntrypoint(List.of("e"), true));
    Op keep = Op.metadata(reset.source(), reset.createdBy(), ConfigDelta.NONE.withEntrypoint(List.of("e"), false));

    assertThat(ConfigFold.apply(base, reset, Optional.empty(), Optional.empty()).config().cmd()).isEmpty();
    assertThat(ConfigFold.apply(base, keep, Optional.empty(), Optional.empty()).config().cmd()).contains(List.of("x"));
  }

  @Test
  void historyFollowsLayersAndSkipsOpsWithoutCreatedBy() {
    Instant epoch = Instant.ofEpochSecond(42);
    Digest layer = Digest.of("layer");
    ImageConfig image = ImageConfig.scratch(Platform.LINUX_AMD64);

    image = ConfigFold.apply(image, Programs.arg(), Optional.empty(), Optional.of(epoch));
    image = ConfigFold.apply(image, Programs.env(), Optional.empty(), Optional.of(epoch));
    image = ConfigFold.apply(image, Programs.workdir(), Optional.of(layer), Optional.of(epoch));

    assertThat(image.history()).containsExactly(
        HistoryEntry.of(epoch, "ENV A=1", true),
        // BuildKit's dispatchWorkdir commits without its state: no " # buildkit", even with a layer
        HistoryEntry.of(epoch, "WORKDIR /app", false));
    assertThat(image.diffIds()).containsExactly(layer);
    assertThat(image.config().workingDir()).isEqualTo("/app");
    assertThat(image.config().env()).containsExactly("A=1");
  }

  @Test
  void runAndCopyHistoryEndsInBuildkitWithOrWithoutALayer() {
    Digest layer = Digest.of("layer");
    ImageConfig image = ImageConfig.scratch(Platform.LINUX_AMD64);

    image = ConfigFold.apply(image, Programs.run(), Optional.of(layer), Optional.empty());
    image = ConfigFold.apply(image, Programs.run(), Optional.empty(), Optional.empty());
    image = ConfigFold.apply(image, Programs.copyApp(0, 3), Optional.of(layer), Optional.empty());

    assertThat(image.history()).containsExactly(
        HistoryEntry.of(null, "RUN make # buildkit", false),
        HistoryEntry.of(null, "RUN make # buildkit", true),
        HistoryEntry.of(null, "COPY app /src/ # buildkit", false));
  }

  @Test
  void everyDeltaFieldReachesTheConfig() {
    ConfigDelta delta = ConfigDelta.NONE
        .withLabels(List.of(new ConfigDelta.KeyValue("a", "b")))
        .withUser("app")
        .withExposedPorts(List.of("7000/udp", "8080/tcp"))
        .withVolumes(List.of("/data"))
        .withCmd(List.of("run"))
        .withShell(List.of("/bin/bash", "-c"))
        .withStopSignal("SIGINT")
        .withOnBuild(List.of("RUN echo"))
        .withAuthor("me");
    Op op = Op.metadata(new OpSource(1, "", ""), "", delta);

    ImageConfig image = ConfigFold.apply(ImageConfig.scratch(Platform.LINUX_AMD64), op, Optional.empty(),
        Optional.empty());

    assertThat(image.config().labels()).containsEntry("a", "b");
    assertThat(image.config().user()).isEqualTo("app");
    assertThat(image.config().exposedPorts()).containsExactly("7000/udp", "8080/tcp");
    assertThat(image.config().volumes()).containsExactly("/data");
    assertThat(image.config().cmd()).contains(List.of("run"));
    assertThat(image.config().shell()).containsExactly("/bin/bash", "-c");
    assertThat(image.config().stopSignal()).isEqualTo("SIGINT");
    assertThat(image.config().onBuild()).containsExactly("RUN echo");
    assertThat(image.author()).isEqualTo("me");
    assertThat(image.history()).isEmpty();
  }
}
