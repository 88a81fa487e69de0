package dev.stagefarm.program;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.HistoryEntry;
import dev.stagefarm.oci.image.ImageConfig;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Applies ops to an image config: the one place the program's config semantics live, used by the
 * worker as it executes and by the coordinator to complete a stage from its cache records, so both
 * reach the same config from the same program.
 */
public final class ConfigFold {
  /** BuildKit's default PATH on Linux, which every stage gets when its base sets none. */
  public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private ConfigFold() {}

  /**
   * The config a stage starts from: the base's, with its ONBUILD triggers dropped (they run as the
   * stage's first ops and are not inherited) and BuildKit's default PATH when the base sets none.
   */
  public static ImageConfig start(ImageConfig base) {
    ContainerConfig config = base.config().withOnBuild(List.of());
    if (config.envValue("PATH").isEmpty()) {
      config = config.withEnv("PATH", DEFAULT_PATH);
    }
    return base.withConfig(config);
  }

  /**
   * The config after {@code op}: its delta, then its layer (when it produced one) and its history
   * entry ({@code created_by}, dated {@code sourceDateEpoch}, {@code empty_layer} when there is no
   * layer); no history entry when {@code created_by} is empty and there is no layer. RUN, COPY and
   * ADD texts end in " # buildkit" as BuildKit writes them (its commitToHistory adds it for the
   * ops that pass their state: exec and file copies, not WORKDIR's mkdir or metadata).
   */
  public static ImageConfig apply(ImageConfig image, Op op, Optional<Digest> layerDiffId,
      Optional<Instant> sourceDateEpoch) {
    ImageConfig next = applyDelta(image, op.config());
    Instant created = sourceDateEpoch.orElse(null);
    String createdBy = op.createdBy().isEmpty() && layerDiffId.isPresent() ? op.source().text() : op.createdBy();
    if (createdBy.isEmpty()) {
      return next;
    }
    boolean buildkitSuffix = op.action().map(a -> a instanceof Action.Exec || a instanceof Action.Copy).orElse(false);
    HistoryEntry entry = HistoryEntry.of(created, buildkitSuffix ? createdBy + " # buildkit" : createdBy,
        layerDiffId.isEmpty());
    return layerDiffId.isPresent() ? next.withLayer(layerDiffId.get(), entry) : next.withHistory(entry);
  }

  private static ImageConfig applyDelta(ImageConfig image, ConfigDelta delta) {
    if (delta.isEmpty()) {
      return image;
    }
    ContainerConfig c = image.config();
    for (ConfigDelta.KeyValue kv : delta.env()) {
      c = c.withEnv(kv.key(), kv.value());
    }
    for (ConfigDelta.KeyValue kv : delta.labels()) {
      c = c.withLabel(kv.key(), kv.value());
    }
    if (delta.user().isPresent()) {
      c = c.withUser(delta.user().get());
    }
    if (delta.workingDir().isPresent()) {
      c = c.withWorkingDir(delta.workingDir().get());
    }
    for (String port : delta.exposedPorts()) {
      c = c.withExposedPort(port);
    }
    for (String volume : delta.volumes()) {
      c = c.withVolume(volume);
    }
    if (delta.cmd().isPresent()) {
      c = c.withCmd(delta.cmd());
    }
    if (delta.entrypoint().isPresent()) {
      c = c.withEntrypoint(delta.entrypoint());
    }
    if (delta.resetCmd()) {
      c = c.withCmd(Optional.empty());
    }
    if (delta.shell().isPresent()) {
      c = c.withShell(delta.shell().get());
    }
    if (delta.stopSignal().isPresent()) {
      c = c.withStopSignal(delta.stopSignal().get());
    }
    if (delta.healthcheck().isPresent()) {
      c = c.withHealthcheck(delta.healthcheck());
    }
    for (String trigger : delta.onBuild()) {
      c = c.withOnBuildTrigger(trigger);
    }
    ImageConfig next = image.withConfig(c);
    return delta.author().isPresent() ? next.withAuthor(delta.author().get()) : next;
  }
}
