package dev.stagefarm.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What {@code kubectl apply -k DIR} would apply, assembled as kustomize does for the fields our
 * kustomizations use: {@code resources} (files and directories with a kustomization),
 * {@code namespace}, {@code images} and {@code replicas}. Any other field is an error, so a
 * kustomization never means more than this test sees. Each document becomes a typed fabric8 object
 * ({@code GenericKubernetesResource} for kinds it has no class for: Strimzi's, KEDA's).
 */
final class Kustomization {
  private static final Set<String> FIELDS = Set.of("apiVersion", "kind", "resources", "namespace", "images", "replicas");
  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private Kustomization() {}

  /** The objects {@code dir}'s kustomization.yaml makes. */
  static List<HasMetadata> render(Path dir) throws IOException {
    Map<String, Object> k = yamlMap(dir.resolve("kustomization.yaml"));
    for (String field : k.keySet()) {
      if (!FIELDS.contains(field)) {
        throw new IllegalArgumentException(dir.resolve("kustomization.yaml") + ": field '" + field
            + "' is not one this test assembles (" + FIELDS + ")");
      }
    }
    List<HasMetadata> objects = new ArrayList<>();
    for (Object entry : list(k.get("resources"))) {
      Path resource = dir.resolve((String) entry).normalize();
      if (Files.isDirectory(resource)) {
        objects.addAll(render(resource));
      } else {
        objects.addAll(parse(resource));
      }
    }
    if (k.get("namespace") instanceof String namespace) {
      objects.forEach(o -> o.getMetadata().setNamespace(namespace));
    }
    for (Object entry : list(k.get("images"))) {
      Map<?, ?> image = (Map<?, ?>) entry;
      retag(objects, (String) image.get("name"), (String) image.get("newName"), (String) image.get("newTag"));
    }
    for (Object entry : list(k.get("replicas"))) {
      Map<?, ?> replicas = (Map<?, ?>) entry;
      deployment(objects, (String) replicas.get("name")).getSpec().setReplicas(((Number) replicas.get("count")).intValue());
    }
    return objects;
  }

  /** The documents of one manifest file, each a typed object. */
  static List<HasMetadata> parse(Path file) throws IOException {
    List<HasMetadata> objects = new ArrayList<>();
    String text = Files.readString(file, StandardCharsets.UTF_8);
    for (String document : text.split("(?m)^---\\s*$")) {
      if (document.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
        continue;
      }
      Object parsed = SERIALIZATION.unmarshal(document);
      if (!(parsed instanceof HasMetadata object)) {
        throw new IllegalArgumentException(file + ": a document that is not a Kubernetes object: " + parsed);
      }
      objects.add(object);
    }
    return objects;
  }

  /** The resource files a kustomization lists (not its directories). */
  static List<String> resourceFiles(Path dir) throws IOException {
    return list(yamlMap(dir.resolve("kustomization.yaml")).get("resources")).stream().map(String.class::cast)
        .filter(r -> !Files.isDirectory(dir.resolve(r))).toList();
  }

  static Deployment deployment(List<HasMetadata> objects, String name) {
    return objects.stream().filter(o -> o instanceof Deployment && o.getMetadata().getName().equals(name))
        .map(Deployment.class::cast).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no Deployment " + name));
  }

  /** kustomize's images transformer: an image whose name (the part before the tag) is {@code name}. */
  private static void retag(List<HasMetadata> objects, String name, String newName, String newTag) {
    for (HasMetadata o : objects) {
      if (o instanceof Deployment d) {
        d.getSpec().getTemplate().getSpec().getContainers().forEach(c -> {
          String image = c.getImage();
          int colon = image.lastIndexOf(':');
          String repository = colon > image.lastIndexOf('/') ? image.substring(0, colon) : image;
          String tag = colon > image.lastIndexOf('/') ? image.substring(colon + 1) : null;
          if (repository.equals(name)) {
            String t = newTag != null ? newTag : tag;
            c.setImage((newName != null ? newName : repository) + (t != null ? ":" + t : ""));
          }
        });
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> yamlMap(Path file) throws IOException {
    return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> yamlMap(String text) {
    return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
  }

  private static List<?> list(Object o) {
    return o == null ? List.of() : (List<?>) o;
  }
}
