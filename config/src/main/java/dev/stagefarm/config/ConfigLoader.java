package dev.stagefarm.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Loads one role's settings from, in rising precedence: the defaults of its {@link ConfigDef}, a YAML file
 * of {@code key: value} pairs, {@code STAGEFARM_<KEY>} environment variables, command-line flags. Strict
 * from every source: an unknown key in the file or the flags is an error naming it and where it was; so is
 * a {@code STAGEFARM_} variable that is no role's key and not one of {@link OtherVariables} (another role's
 * key is ignored: one environment may serve a coordinator and workers). A value that does not parse or
 * breaks its key's rule is an error naming the key, its source and the rule; a secret's value is never in
 * a message.
 */
public final class ConfigLoader {
  private static final long MAX_FILE_BYTES = 1 << 20;

  private ConfigLoader() {}

  /**
   * @param file the YAML file ({@code --config}), or null
   * @param env the environment ({@code System.getenv()})
   * @param flags key name (or alias) → text, for the flags the user gave
   */
  public static ConfigValues load(ConfigDef def, Path file, Map<String, String> env, Map<String, String> flags) {
    Map<ConfigKey<?>, ConfigValues.Value> values = new LinkedHashMap<>();
    for (ConfigKey<?> key : def.keys()) {
      if (key.defaultValue() != null) {
        values.put(key, parse(key, key.defaultValue(), Source.DEFAULT));
      }
    }
    if (file != null) {
      put(def, values, readYaml(def, file), Source.file(file));
    }
    fromEnvironment(def, env).forEach((key, variable) ->
        values.put(key, parse(key, env.get(variable), Source.env(variable))));
    Map<String, String> flagValues = new LinkedHashMap<>();
    flags.forEach((name, text) -> {
      if (text != null) {
        flagValues.put(name, text);
      }
    });
    byKey(def, flagValues, "flags: ").forEach((key, name) ->
        values.put(key, parse(key, flagValues.get(name), Source.flag(name))));
    for (ConfigKey<?> key : def.keys()) {
      if (key.required() && !values.containsKey(key)) {
        throw new ConfigException(key.name() + " is required (flag --" + key.name() + ", env " + key.envName()
            + ", or the YAML file)");
      }
    }
    return new ConfigValues(def, values);
  }

  /** Key → the variable that sets it; throws for a {@code STAGEFARM_} variable nobody reads. */
  private static Map<ConfigKey<?>, String> fromEnvironment(ConfigDef def, Map<String, String> env) {
    Map<ConfigKey<?>, String> out = new LinkedHashMap<>();
    Map<ConfigKey<?>, String> names = new LinkedHashMap<>();
    for (String variable : new TreeMap<>(env).keySet()) {
      if (!variable.startsWith(ConfigKey.ENV_PREFIX)) {
        continue;
      }
      String text = env.get(variable);
      var key = def.findByEnv(variable);
      if (key.isPresent()) {
        String earlier = names.put(key.get(), variable);
        if (earlier != null) {
          throw new ConfigException("environment: " + earlier + " and " + variable + " both set " + key.get().name()
              + ": keep one");
        }
        if (text != null && !text.isEmpty()) { // an empty variable counts as unset (compose's ${X:-})
          out.put(key.get(), variable);
        }
        continue;
      }
      if (OtherVariables.ALL.containsKey(variable) || !Roles.readingEnv(variable, def).isEmpty()) {
        continue;
      }
      String removed = removedName(def, variable);
      if (removed != null) {
        throw new ConfigException("environment " + variable + ": '" + removed + "' was removed: "
            + def.removed().get(removed));
      }
      throw new ConfigException("environment " + variable + " is not a setting of any stagefarm role: a misspelt"
          + " key? (the " + def.role() + "'s keys are in docs/configuration.md; unset it, or see"
          + " \"Environment variables that are not keys\" there)");
    }
    return out;
  }

  private static String removedName(ConfigDef def, String variable) {
    return def.removed().keySet().stream().filter(n -> ConfigKey.envName(n).equals(variable)).findFirst().orElse(null);
  }

  private static void put(ConfigDef def, Map<ConfigKey<?>, ConfigValues.Value> values, Map<String, String> given,
      Source source) {
    byKey(def, given, source + ": ").forEach((key, name) -> values.put(key, parse(key, given.get(name), source)));
  }

  /** Key → the name (or alias) it was given as; an unknown, removed or doubly given key is an error. */
  private static Map<ConfigKey<?>, String> byKey(ConfigDef def, Map<String, String> given, String where) {
    Map<ConfigKey<?>, String> out = new LinkedHashMap<>();
    Map<ConfigKey<?>, String> names = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : given.entrySet()) {
      String name = e.getKey();
      if (def.removed().containsKey(name)) {
        throw new ConfigException(where + "'" + name + "' was removed: " + def.removed().get(name));
      }
      ConfigKey<?> key = def.find(name).orElseThrow(() -> unknown(def, where, name));
      String earlier = names.put(key, name);
      if (earlier != null) {
        throw new ConfigException(where + "'" + earlier + "' and '" + name + "' both set " + key.name()
            + ": keep one");
      }
      out.put(key, name);
    }
    return out;
  }

  private static ConfigException unknown(ConfigDef def, String where, String name) {
    List<String> others = Roles.having(name, def);
    String hint = others.isEmpty()
        ? " (the " + def.role() + "'s keys are in docs/configuration.md)"
        : ": a key of the " + String.join(" and ", others) + ", not of the " + def.role();
    return new ConfigException(where + "unknown key '" + name + "'" + hint);
  }

  private static <T> ConfigValues.Value parse(ConfigKey<T> key, String text, Source source) {
    T value;
    try {
      value = key.type().parse().apply(text);
    } catch (IllegalArgumentException e) {
      throw invalid(key, text, source, e.getMessage());
    }
    if (!key.validator().accepts(value)) {
      throw invalid(key, text, source, "must be " + key.validator().rule());
    }
    return new ConfigValues.Value(key, text, value, source);
  }

  private static ConfigException invalid(ConfigKey<?> key, String text, Source source, String rule) {
    String shown = key.secret() ? "(secret, not shown)" : "'" + text + "'";
    return new ConfigException(key.name() + ": " + shown + " from " + source
        + (rule.startsWith("must ") ? " " : " is ") + rule);
  }

  private static Map<String, String> readYaml(ConfigDef def, Path file) {
    Object doc;
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new ConfigException("config file " + file + " is larger than 1 MiB");
      }
      try (Reader reader = Files.newBufferedReader(file)) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        doc = new Yaml(new SafeConstructor(options)).load(reader);
      }
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
    } catch (ConfigException e) {
      throw e;
    } catch (MarkedYAMLException e) {
      // the problem and its line, never the excerpt snakeyaml quotes: that line may hold a secret
      String line = e.getProblemMark() == null ? "" : " line " + (e.getProblemMark().getLine() + 1);
      throw new ConfigException("config file " + file + " is not valid YAML:" + line + ": " + e.getProblem(), e);
    } catch (RuntimeException e) {
      throw new ConfigException("config file " + file + " is not valid YAML", e);
    }
    if (doc == null) {
      return Map.of();
    }
    if (!(doc instanceof Map<?, ?> map)) {
      throw new ConfigException("config file " + file + " must be a mapping of key: value");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      Object v = e.getValue();
      String text;
      if (v == null) {
        text = "";
      } else if (v instanceof List<?> list && list.stream().noneMatch(x -> x instanceof Map || x instanceof List)) {
        text = list.stream().map(String::valueOf).collect(Collectors.joining(","));
      } else if (v instanceof Map || v instanceof List) {
        throw new ConfigException("config file " + file + ": '" + key + "' must be a single value or a list");
      } else {
        text = String.valueOf(v);
      }
      out.put(key, text);
    }
    return out;
  }
}
