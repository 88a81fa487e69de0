package dev.stagefarm.kubernetes;

import dev.stagefarm.cli.CoordinatorCommand;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.config.WorkerKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * What the code says a deployment may name: the worker's config keys, the coordinator's flags, the
 * farm's topics and the images deploy/images builds. The one place the manifests' test looks them
 * up (the key table may move; change it here).
 */
final class FarmSettings {
  private FarmSettings() {}

  /** Keys a worker's YAML config may have (the worker's key table, names and aliases). */
  static Set<String> workerKeys() {
    return WorkerKeys.DEF.keys().stream()
        .flatMap(k -> Stream.concat(Stream.of(k.name()), k.aliases().stream()))
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** Every name of every option of {@code stagefarm coordinator} (its picocli spec, mixins included). */
  static Set<String> coordinatorFlags() {
    return new CommandLine(new CoordinatorCommand()).getCommandSpec().options().stream()
        .flatMap(o -> Stream.concat(Arrays.stream(o.names()),
            o.negatable() ? Arrays.stream(o.names()).filter(n -> n.startsWith("--")).map(n -> "--no-" + n.substring(2)) : Stream.empty()))
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** Of {@code keys}, those a worker's config does not have. */
  static List<String> unknownWorkerKeys(Collection<String> keys) {
    Set<String> known = workerKeys();
    return keys.stream().filter(k -> !known.contains(k)).toList();
  }

  /** Of {@code flags}, those {@code stagefarm coordinator} does not have. */
  static List<String> unknownCoordinatorFlags(Collection<String> flags) {
    Set<String> known = coordinatorFlags();
    return flags.stream().filter(f -> !known.contains(f)).toList();
  }

  /** The farm's topics (the protocol's topic layout). */
  static Set<String> topics() {
    return Set.of(Topics.TASKS, Topics.EVENTS, Topics.BUILDS, Topics.LEADER, Topics.CONTROL);
  }

  /** Image names deploy/images/build.sh makes: stagefarm-DIR for each DIR with a Dockerfile, the client's is stagefarm. */
  static Set<String> builtImages(Path root) throws IOException {
    try (Stream<Path> dirs = Files.list(root.resolve("deploy/images"))) {
      List<String> names = dirs.filter(d -> Files.isRegularFile(d.resolve("Dockerfile")))
          .map(d -> d.getFileName().toString()).sorted().toList();
      return names.stream().map(n -> n.equals("client") ? "stagefarm" : "stagefarm-" + n)
          .collect(Collectors.toCollection(LinkedHashSet::new));
    }
  }
}
