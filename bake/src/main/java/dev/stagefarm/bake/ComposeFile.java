package dev.stagefarm.bake;

import dev.stagefarm.bake.hcl.Body;
import dev.stagefarm.bake.hcl.Expr;
import dev.stagefarm.bake.hcl.HclException;
import dev.stagefarm.bake.hcl.Pos;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The {@code build:} sections of a compose file as bake targets (one per service that has one,
 * named after the service), as buildx reads them: {@code image} is the tag, the context is
 * relative to the compose file's directory, {@code ${VAR}} / {@code ${VAR:-default}} come from
 * the environment. Keys without a bake counterpart here are refused by name.
 */
public final class ComposeFile {
  private ComposeFile() {}

  private static final Map<String, TargetAttribute> KEYS = Map.ofEntries(
      Map.entry("context", TargetAttribute.CONTEXT),
      Map.entry("dockerfile", TargetAttribute.DOCKERFILE),
      Map.entry("dockerfile_inline", TargetAttribute.DOCKERFILE_INLINE),
      Map.entry("args", TargetAttribute.ARGS),
      Map.entry("labels", TargetAttribute.LABELS),
      Map.entry("target", TargetAttribute.TARGET),
      Map.entry("tags", TargetAttribute.TAGS),
      Map.entry("platforms", TargetAttribute.PLATFORMS),
      Map.entry("cache_from", TargetAttribute.CACHE_FROM),
      Map.entry("cache_to", TargetAttribute.CACHE_TO),
      Map.entry("additional_contexts", TargetAttribute.CONTEXTS),
      Map.entry("no_cache", TargetAttribute.NO_CACHE),
      Map.entry("pull", TargetAttribute.PULL),
      Map.entry("network", TargetAttribute.NETWORK),
      Map.entry("shm_size", TargetAttribute.SHM_SIZE),
      Map.entry("ssh", TargetAttribute.SSH),
      Map.entry("extra_hosts", TargetAttribute.EXTRA_HOSTS),
      Map.entry("entitlements", TargetAttribute.ENTITLEMENTS));

  public static BakeDefinition read(String name, String text, Path directory, Function<String, String> env) {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(50);
    options.setNestingDepthLimit(64);
    options.setCodePointLimit(BakeFileReader.MAX_FILE_BYTES);
    options.setAllowDuplicateKeys(false);
    Object root;
    try {
      root = new Yaml(new SafeConstructor(options)).load(text);
    } catch (MarkedYAMLException e) {
      var mark = e.getProblemMark();
      throw new HclException(mark == null ? new Pos(name, 1, 1) : new Pos(name, mark.getLine() + 1, mark.getColumn() + 1),
          "not a compose file: " + e.getProblem());
    } catch (YAMLException e) {
      throw new HclException(new Pos(name, 1, 1), "not a compose file: " + e.getMessage());
    }
    Pos top = new Pos(name, 1, 1);
    if (!(root instanceof Map<?, ?> document) || !(document.get("services") instanceof Map<?, ?> services)) {
      throw new HclException(top, "a compose file needs a services: section");
    }
    List<BakeDefinition.Target> targets = new ArrayList<>();
    List<Expr> names = new ArrayList<>();
    for (var service : services.entrySet()) {
      String serviceName = String.valueOf(service.getKey());
      Pos pos = new Pos(name + "#services." + serviceName, 1, 1);
      if (!(service.getValue() instanceof Map<?, ?> definition) || !definition.containsKey("build")) {
        continue; // a service without build: is run, not built
      }
      String target = serviceName.replaceAll("[^a-zA-Z0-9_-]", "_");
      Map<TargetAttribute, Object> values = new LinkedHashMap<>();
      Object build = definition.get("build");
      if (build instanceof String context) {
        values.put(TargetAttribute.CONTEXT, interpolate(context, env, pos));
      } else if (build instanceof Map<?, ?> section) {
        for (var entry : section.entrySet()) {
          String key = String.valueOf(entry.getKey());
          TargetAttribute attribute = KEYS.get(key);
          if (attribute == null) {
            if (key.startsWith("x-")) {
              continue;
            }
            throw new HclException(pos, "compose build key \"" + key + "\" is not supported by stagefarm bake");
          }
          values.put(attribute, convert(entry.getValue(), attribute, env, pos));
        }
      } else {
        throw new HclException(pos, "build: is a context path or a mapping");
      }
      String context = (String) values.getOrDefault(TargetAttribute.CONTEXT, ".");
      String resolvedContext = directory.resolve(context).normalize().toString();
      values.put(TargetAttribute.CONTEXT, resolvedContext.isEmpty() ? "." : resolvedContext);
      if (definition.get("image") != null) {
        List<Object> tags = new ArrayList<>();
        tags.add(interpolate(String.valueOf(definition.get("image")), env, pos));
        Object more = values.get(TargetAttribute.TAGS);
        if (more instanceof List<?> list) {
          tags.addAll(list);
        }
        values.put(TargetAttribute.TAGS, tags);
      }
      List<Body.Attribute> attributes = new ArrayList<>();
      values.forEach((attribute, value) -> attributes.add(new Body.Attribute(pos, attribute.key(), literal(value, pos))));
      targets.add(new BakeDefinition.Target(target, attributes, pos));
      names.add(new Expr.Literal(pos, target));
    }
    List<BakeDefinition.Group> groups = List.of(new BakeDefinition.Group("default",
        new Body.Attribute(top, "targets", new Expr.Tuple(top, names)), top));
    return new BakeDefinition(List.of(), List.of(), groups, targets);
  }

  private static Object convert(Object value, TargetAttribute attribute, Function<String, String> env, Pos pos) {
    return switch (attribute.kind()) {
      case STRING -> interpolate(String.valueOf(value), env, pos);
      case BOOL -> value instanceof Boolean b ? b : Boolean.parseBoolean(String.valueOf(value));
      case LIST -> {
        if (!(value instanceof List<?> list)) {
          throw new HclException(pos, attribute.key() + " is a list");
        }
        List<Object> out = new ArrayList<>();
        for (Object item : list) {
          out.add(interpolate(String.valueOf(item), env, pos));
        }
        yield out;
      }
      case MAP -> {
        Map<String, Object> out = new LinkedHashMap<>();
        if (value instanceof Map<?, ?> map) {
          map.forEach((k, v) -> out.put(String.valueOf(k), v == null ? null : interpolate(String.valueOf(v), env, pos)));
        } else if (value instanceof List<?> list) {
          for (Object item : list) { // the list form: KEY=VALUE, or KEY alone (from the environment)
            String text = interpolate(String.valueOf(item), env, pos);
            int eq = text.indexOf('=');
            out.put(eq < 0 ? text : text.substring(0, eq), eq < 0 ? env.apply(text) : text.substring(eq + 1));
          }
        } else {
          throw new HclException(pos, attribute.key() + " is a mapping or a list of KEY=VALUE");
        }
        yield out;
      }
    };
  }

  private static final Pattern VARIABLE =
      Pattern.compile("\\$(?:\\$|\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}|([A-Za-z_][A-Za-z0-9_]*))");

  /** Compose's {@code $VAR}, {@code ${VAR}}, {@code ${VAR:-default}}, {@code ${VAR:?error}}, {@code $$}. */
  static String interpolate(String text, Function<String, String> env, Pos pos) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group().equals("$$")) {
        replacement = "$";
      } else {
        String name = m.group(1) != null ? m.group(1) : m.group(4);
        String value = env.apply(name);
        String op = m.group(2);
        boolean unset = op != null && op.startsWith(":") ? value == null || value.isEmpty() : value == null;
        if (op != null && op.endsWith("?") && unset) {
          throw new HclException(pos, "${" + name + "} is required: " + m.group(3));
        }
        replacement = op != null && op.endsWith("-") && unset ? m.group(3) : value == null ? "" : value;
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** A plain value as a constant expression (compose values are not HCL templates). */
  private static Expr literal(Object value, Pos pos) {
    return switch (value) {
      case List<?> list -> new Expr.Tuple(pos, list.stream().map(v -> literal(v, pos)).toList());
      case Map<?, ?> map -> new Expr.ObjectCons(pos, map.entrySet().stream()
          .map(e -> new Expr.ObjectCons.Item(new Expr.Literal(pos, String.valueOf(e.getKey())), literal(e.getValue(), pos)))
          .toList());
      case Integer i -> new Expr.Literal(pos, BigDecimal.valueOf(i));
      case null -> new Expr.Literal(pos, null);
      default -> new Expr.Literal(pos, value);
    };
  }
}
