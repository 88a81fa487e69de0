package dev.stagefarm.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.worker.kafka.FarmTopics;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.io.StringReader;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * deploy/kubernetes, each overlay assembled as kustomize would and parsed into typed objects, checked
 * against itself (selectors, ports, secrets, probes) and against the code (config keys, flags,
 * topics, images). Nothing here talks to a cluster: none can be had on this machine.
 */
class KubernetesManifestsTest {
  private static final Path ROOT = Path.of(System.getProperty("stagefarm.root", "..")).toAbsolutePath().normalize();
  private static final Path K8S = ROOT.resolve("deploy/kubernetes");
  private static final String COORDINATOR = "stagefarm-coordinator";
  private static final String WORKER = "stagefarm-worker";

  static Stream<Path> overlays() throws IOException {
    try (Stream<Path> dirs = Files.list(K8S.resolve("overlays"))) {
      return dirs.filter(d -> Files.isRegularFile(d.resolve("kustomization.yaml"))).sorted().toList().stream();
    }
  }

  @Test
  void everyManifestOfTheBaseIsInItsKustomizationAndThereAreOverlays() throws IOException {
    try (Stream<Path> files = Files.list(K8S.resolve("base"))) {
      Set<String> yaml = files.map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).collect(Collectors.toSet());
      assertThat(Kustomization.resourceFiles(K8S.resolve("base"))).containsExactlyInAnyOrderElementsOf(yaml);
    }
    assertThat(overlays()).extracting(p -> p.getFileName().toString()).contains("dev", "production");
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void everyDocumentIsATypedObjectWithNoFieldItsTypeLacks(Path overlay) throws Exception {
    List<HasMetadata> objects = Kustomization.render(overlay);
    assertThat(objects).extracting(o -> o.getKind() + "/" + o.getMetadata().getName()).doesNotHaveDuplicates();
    for (HasMetadata o : objects) {
      if (o instanceof GenericKubernetesResource generic) {
        // kinds of operators whose types fabric8 does not ship: their API group is all we can check here
        assertThat(generic.getApiVersion()).as(generic.getKind()).isIn("kafka.strimzi.io/v1beta2", "keda.sh/v1alpha1");
      } else {
        List<String> unknown = new ArrayList<>();
        unknownFields(o, o.getKind() + "/" + o.getMetadata().getName(), unknown, 0);
        assertThat(unknown).as("fields the Kubernetes API does not have (typos?)").isEmpty();
      }
      assertThat(o.getMetadata().getNamespace()).as("the overlay's namespace").isNotBlank();
    }
    assertThat(objects).filteredOn(o -> o instanceof Deployment).hasSize(2);
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void servicesAndDisruptionBudgetsSelectTheCoordinatorPodsAndItsPorts(Path overlay) throws Exception {
    List<HasMetadata> objects = Kustomization.render(overlay);
    Deployment coordinator = Kustomization.deployment(objects, COORDINATOR);
    Map<String, String> podLabels = coordinator.getSpec().getTemplate().getMetadata().getLabels();
    for (HasMetadata o : objects) {
      if (o instanceof Deployment d) {
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).as("%s's pods carry its selector's labels", d.getMetadata().getName())
            .containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
      }
    }
    Service service = one(objects, Service.class, COORDINATOR);
    assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
    Container container = coordinator.getSpec().getTemplate().getSpec().getContainers().getFirst();
    for (ServicePort port : service.getSpec().getPorts()) {
      assertThat(containerPort(container, port.getTargetPort())).as("Service port %s's target", port.getName())
          .isNotNull();
    }
    PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class, COORDINATOR);
    assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getMaxUnavailable()).isEqualTo(new IntOrString(1));
    assertThat(Kustomization.deployment(Kustomization.render(K8S.resolve("base")), COORDINATOR).getSpec().getReplicas())
        .as("two coordinators: one active, one standby").isEqualTo(2);
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void theCoordinatorsFlagsExistAndItsPortsAreTheOnesItListensOn(Path overlay) throws Exception {
    Part part = Part.of(overlay, COORDINATOR);
    Container container = part.container();
    Map<String, String> flags = coordinatorFlags(part);
    assertThat(FarmSettings.unknownCoordinatorFlags(flags.keySet()))
        .as("flags stagefarm coordinator does not have (it has %s)", FarmSettings.coordinatorFlags()).isEmpty();
    assertThat(flags.get("--port")).isEqualTo(Integer.toString(port(container, "grpc")));
    assertThat(flags.get("--metrics-listen")).isEqualTo("0.0.0.0:" + port(container, "metrics"));
    assertThat(flags.get("--advertise")).isEqualTo("$(POD_IP):" + port(container, "grpc"));
    assertThat(container.getEnv()).anyMatch(e -> e.getName().equals("POD_IP"));
    assertThat(flags).as("topics are Strimzi's").containsKey("--no-create-topics");
    for (String file : List.of("--kafka-properties", "--farm-key-file", "--tls-cert", "--tls-key", "--tokens-file")) {
      assertMounted(part, flags.get(file));
    }
    String dockerConfig = container.getEnv().stream().filter(e -> e.getName().equals("DOCKER_CONFIG")).findFirst()
        .orElseThrow().getValue();
    assertMounted(part, dockerConfig + "/config.json");
    assertKafkaProperties(part, flags.get("--kafka-properties"));
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void theWorkersConfigKeysExistAndItsPortAndFilesAreWired(Path overlay) throws Exception {
    Part part = Part.of(overlay, WORKER);
    Container container = part.container();
    Map<String, Object> config = workerConfig(part);
    assertThat(FarmSettings.unknownWorkerKeys(config.keySet()))
        .as("keys the worker's config does not have (it has %s)", FarmSettings.workerKeys()).isEmpty();
    assertThat(config.get("metrics-listen")).isEqualTo("0.0.0.0:" + port(container, "metrics"));
    assertThat(config.get("create-topics")).isEqualTo("false");
    assertThat(config.get("work-dir")).as("the work dir is a volume (overlayfs cannot stack on the root)")
        .isIn(container.getVolumeMounts().stream().map(VolumeMount::getMountPath).toList());
    for (String file : List.of("kafka-properties", "farm-key-file")) {
      assertMounted(part, (String) config.get(file));
    }
    assertKafkaProperties(part, (String) config.get("kafka-properties"));
    assertThat(container.getSecurityContext().getPrivileged()).as("runc inside needs it (README)").isTrue();
    long grace = java.time.Duration.parse("PT" + ((String) config.get("shutdown-grace")).toUpperCase()).toSeconds();
    assertThat(part.deployment().getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
        .as("Kubernetes waits longer than the worker's shutdown grace").isGreaterThan(grace);
    // the worker never gets the coordinator's signing key
    assertThat(secretNames(part.deployment().getSpec().getTemplate().getSpec(), container)).doesNotContain("stagefarm-coordinator-key");
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void probesAskTheHealthEndpointsAndImagesAreOnesDeployImagesBuilds(Path overlay) throws Exception {
    Set<String> built = FarmSettings.builtImages(ROOT);
    for (HasMetadata o : Kustomization.render(overlay)) {
      if (!(o instanceof Deployment d)) {
        continue;
      }
      for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
        String image = c.getImage();
        String repository = image.substring(0, image.lastIndexOf(':'));
        assertThat(repository.substring(repository.lastIndexOf('/') + 1)).as(image).isIn(built);
        assertThat(image.substring(image.lastIndexOf(':') + 1)).as("a pinned tag, not latest").isNotIn("", "latest");
        assertProbe(c, c.getLivenessProbe(), "/livez");
        assertProbe(c, c.getStartupProbe(), "/livez");
        assertProbe(c, c.getReadinessProbe(), "/readyz");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void everySecretAndConfigMapAPodUsesExistsWithTheKeysItTakes(Path overlay) throws Exception {
    List<HasMetadata> objects = Kustomization.render(overlay);
    Set<String> declared = new java.util.HashSet<>();
    for (HasMetadata o : objects) {
      if (!(o instanceof Deployment d)) {
        continue;
      }
      PodSpec pod = d.getSpec().getTemplate().getSpec();
      for (Container c : pod.getContainers()) {
        c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
            .forEach(e -> {
              var ref = e.getValueFrom().getSecretKeyRef();
              assertThat(keys(objects, "Secret", ref.getName())).as("Secret %s", ref.getName()).contains(ref.getKey());
              declared.add(ref.getName());
            });
      }
      for (Volume v : pod.getVolumes()) {
        if (v.getSecret() != null) {
          Set<String> keys = keys(objects, "Secret", v.getSecret().getSecretName());
          assertThat(keys).as("Secret %s", v.getSecret().getSecretName())
              .containsAll(v.getSecret().getItems().stream().map(KeyToPath::getKey).toList());
          declared.add(v.getSecret().getSecretName());
        } else if (v.getConfigMap() != null) {
          assertThat(keys(objects, "ConfigMap", v.getConfigMap().getName())).isNotEmpty();
        }
      }
    }
    assertThat(declared).contains("stagefarm-s3", "stagefarm-registry", "stagefarm-coordinator-key", "stagefarm-worker-key",
        "stagefarm-kafka-coordinator", "stagefarm-kafka-worker", "stagefarm-api");
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void kafkaTopicsAreTheFarmsTopicsReplicatedThreeTimes(Path overlay) throws Exception {
    Map<String, Map<String, Object>> topics = new LinkedHashMap<>();
    for (HasMetadata o : Kustomization.render(overlay)) {
      if (o.getKind().equals("KafkaTopic")) {
        Map<String, Object> spec = spec(o);
        topics.put((String) spec.get("topicName"), spec);
        assertThat(o.getMetadata().getLabels()).containsEntry("strimzi.io/cluster", "stagefarm-kafka");
        assertThat(spec.get("replicas")).as(o.getMetadata().getName()).isEqualTo(3);
        assertThat(config(spec)).containsEntry("min.insync.replicas", 2);
      }
    }
    assertThat(topics.keySet()).containsExactlyInAnyOrderElementsOf(FarmSettings.topics());
    FarmTopics.Layout layout = FarmTopics.Layout.singleBroker();
    assertThat(topics.get("stagefarm.tasks").get("partitions")).isEqualTo(layout.taskPartitions());
    assertThat(topics.get("stagefarm.events").get("partitions")).isEqualTo(layout.eventPartitions());
    assertThat(config(topics.get("stagefarm.builds"))).containsEntry("cleanup.policy", "compact");
    assertThat(config(topics.get("stagefarm.leader"))).containsEntry("cleanup.policy", "compact");
    assertThat(((Number) config(topics.get("stagefarm.control")).get("retention.ms")).longValue())
        .isEqualTo(FarmTopics.CONTROL_RETENTION.toMillis());
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void kedaScalesTheWorkersOnTheQueuedStageGaugeBySlotsPerWorker(Path overlay) throws Exception {
    List<HasMetadata> objects = Kustomization.render(overlay);
    HasMetadata scaledObject = objects.stream().filter(o -> o.getKind().equals("ScaledObject")).findFirst().orElseThrow();
    Map<String, Object> spec = spec(scaledObject);
    Map<?, ?> target = (Map<?, ?>) spec.get("scaleTargetRef");
    assertThat(target.get("kind")).isEqualTo("Deployment");
    Deployment worker = Kustomization.deployment(objects, (String) target.get("name"));
    assertThat(worker.getMetadata().getName()).isEqualTo(WORKER);
    List<?> triggers = (List<?>) spec.get("triggers");
    assertThat(triggers).hasSize(1);
    Map<?, ?> trigger = (Map<?, ?>) triggers.getFirst();
    // not KEDA's kafka scaler: it reads consumer-group lag, and the workers are a share group (kedacore/keda#7920)
    assertThat(trigger.get("type")).isEqualTo("prometheus");
    Map<?, ?> metadata = (Map<?, ?>) trigger.get("metadata");
    assertThat((String) metadata.get("query")).contains("stagefarm_stages_queued").contains("stagefarm_stages_running")
        .contains(COORDINATOR);
    Map<String, Object> config = workerConfig(new Part(objects, worker, worker.getSpec().getTemplate().getSpec().getContainers().getFirst()));
    assertThat(metadata.get("threshold")).as("a worker's share of the backlog: its slots").isEqualTo(config.get("concurrency"));
    assertThat((Integer) spec.get("minReplicaCount")).isPositive();
    assertThat((Integer) spec.get("maxReplicaCount")).isGreaterThan((Integer) spec.get("minReplicaCount"));
  }

  // --- helpers

  /** One Deployment of an assembled overlay, with its (only) container. */
  private record Part(List<HasMetadata> objects, Deployment deployment, Container container) {
    static Part of(Path overlay, String name) throws IOException {
      List<HasMetadata> objects = Kustomization.render(overlay);
      Deployment deployment = Kustomization.deployment(objects, name);
      return new Part(objects, deployment, deployment.getSpec().getTemplate().getSpec().getContainers().getFirst());
    }
  }

  /** The worker's YAML config: the file its only argument, {@code --config=FILE}, names. */
  private static Map<String, Object> workerConfig(Part worker) {
    assertThat(worker.container().getArgs()).hasSize(1).first().asString().startsWith("--config=");
    String path = worker.container().getArgs().getFirst().substring("--config=".length());
    return Kustomization.yamlMap(fileContent(worker, path));
  }

  /** The coordinator's flags: its args, the @file they name (from a ConfigMap) expanded in place. */
  private static Map<String, String> coordinatorFlags(Part part) {
    Map<String, String> flags = new LinkedHashMap<>();
    for (String arg : part.container().getArgs()) {
      List<String> words = arg.startsWith("@")
          ? fileContent(part, arg.substring(1)).lines().map(String::strip).filter(l -> !l.isEmpty()).toList()
          : List.of(arg);
      for (String word : words) {
        assertThat(word).as("one --flag[=value] per line").startsWith("--");
        int eq = word.indexOf('=');
        flags.put(eq < 0 ? word : word.substring(0, eq), eq < 0 ? "" : word.substring(eq + 1));
      }
    }
    return flags;
  }

  /** Asserts that {@code path} is a file a mounted Secret or ConfigMap of the pod provides. */
  private static void assertMounted(Part part, String path) {
    assertThat(path).as("a file of the container").isNotNull();
    assertThat(fileContent(part, path)).as(path).isNotNull();
  }

  /** What the pod sees at {@code path}: the key of the Secret or ConfigMap mounted there. */
  private static String fileContent(Part part, String path) {
    Deployment d = part.deployment();
    Container c = part.container();
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    VolumeMount mount = c.getVolumeMounts().stream().filter(m -> path.startsWith(m.getMountPath() + "/")).findFirst()
        .orElseThrow(() -> new AssertionError(path + " is under no volume mount of " + d.getMetadata().getName()));
    String file = path.substring(mount.getMountPath().length() + 1);
    Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
    String kind = volume.getSecret() != null ? "Secret" : volume.getConfigMap() != null ? "ConfigMap" : null;
    assertThat(kind).as("%s comes from a Secret or ConfigMap", path).isNotNull();
    String name = kind.equals("Secret") ? volume.getSecret().getSecretName() : volume.getConfigMap().getName();
    List<KeyToPath> items = kind.equals("Secret") ? volume.getSecret().getItems() : volume.getConfigMap().getItems();
    String key = items == null || items.isEmpty() ? file
        : items.stream().filter(i -> i.getPath().equals(file)).map(KeyToPath::getKey).findFirst()
            .orElseThrow(() -> new AssertionError(path + ": volume " + volume.getName() + " maps no item to " + file));
    Map<String, String> data = data(part.objects(), kind, name);
    assertThat(data).as("%s %s has %s (for %s)", kind, name, key, path).containsKey(key);
    return data.get(key);
  }

  /** The Kafka client properties file is valid for the farm's Kafka clients and its truststore is mounted. */
  private static void assertKafkaProperties(Part part, String path) throws IOException {
    Properties props = new Properties();
    props.load(new StringReader(fileContent(part, path)));
    Map<String, String> settings = props.stringPropertyNames().stream().collect(Collectors.toMap(k -> k, props::getProperty));
    assertThat(KafkaClientProperties.of(settings).asMap()).isNotEmpty();
    if (settings.containsKey("ssl.truststore.location")) {
      assertMounted(part, settings.get("ssl.truststore.location"));
    }
  }

  private static Set<String> secretNames(PodSpec pod, Container c) {
    Set<String> names = new java.util.HashSet<>();
    pod.getVolumes().stream().filter(v -> v.getSecret() != null).forEach(v -> names.add(v.getSecret().getSecretName()));
    c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
        .forEach(e -> names.add(e.getValueFrom().getSecretKeyRef().getName()));
    return names;
  }

  private static Map<String, String> data(List<HasMetadata> objects, String kind, String name) {
    HasMetadata o = objects.stream().filter(x -> x.getKind().equals(kind) && x.getMetadata().getName().equals(name))
        .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    Map<String, String> data = new LinkedHashMap<>();
    if (o instanceof Secret s) {
      if (s.getData() != null) {
        s.getData().forEach((k, v) -> data.put(k, new String(java.util.Base64.getDecoder().decode(v))));
      }
      if (s.getStringData() != null) {
        data.putAll(s.getStringData());
      }
    } else if (o instanceof ConfigMap m && m.getData() != null) {
      data.putAll(m.getData());
    }
    return data;
  }

  private static Set<String> keys(List<HasMetadata> objects, String kind, String name) {
    return data(objects, kind, name).keySet();
  }

  private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
    return objects.stream().filter(type::isInstance).map(type::cast).filter(o -> o.getMetadata().getName().equals(name))
        .findFirst().orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
  }

  private static ContainerPort containerPort(Container c, IntOrString port) {
    return c.getPorts().stream().filter(p -> port.getStrVal() != null ? port.getStrVal().equals(p.getName())
        : port.getIntVal().equals(p.getContainerPort())).findFirst().orElse(null);
  }

  private static int port(Container c, String name) {
    ContainerPort port = containerPort(c, new IntOrString(name));
    assertThat(port).as("container port %s", name).isNotNull();
    return port.getContainerPort();
  }

  private static void assertProbe(Container c, Probe probe, String path) {
    assertThat(probe).as("%s has the probe for %s", c.getName(), path).isNotNull();
    assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
    assertThat(containerPort(c, probe.getHttpGet().getPort())).as("the probe's port is the metrics port")
        .isEqualTo(containerPort(c, new IntOrString("metrics")));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> spec(HasMetadata o) {
    return (Map<String, Object>) ((GenericKubernetesResource) o).getAdditionalProperties().get("spec");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> config(Map<String, Object> spec) {
    return (Map<String, Object>) spec.get("config");
  }

  /** Fields fabric8 kept aside because its type has no such property: what the API server would refuse. */
  private static void unknownFields(Object o, String path, List<String> unknown, int depth) throws Exception {
    if (o == null || depth > 20 || !o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      if (o instanceof List<?> list) {
        for (int i = 0; i < list.size(); i++) {
          unknownFields(list.get(i), path + "[" + i + "]", unknown, depth + 1);
        }
      } else if (o instanceof Map<?, ?> map) {
        for (var e : map.entrySet()) {
          unknownFields(e.getValue(), path + "." + e.getKey(), unknown, depth + 1);
        }
      }
      return;
    }
    if (o instanceof IntOrString || o instanceof io.fabric8.kubernetes.api.model.Quantity) {
      return;
    }
    for (Method m : o.getClass().getMethods()) {
      if (m.getParameterCount() != 0 || !m.getName().startsWith("get") || m.getDeclaringClass() == Object.class) {
        continue;
      }
      Object value = m.invoke(o);
      if (m.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          unknown.add(path + ": " + extra.keySet());
        }
      } else {
        unknownFields(value, path + "." + m.getName().substring(3), unknown, depth + 1);
      }
    }
  }
}
