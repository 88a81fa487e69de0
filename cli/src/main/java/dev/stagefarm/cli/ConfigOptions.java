package dev.stagefarm.cli;

import dev.stagefarm.config.ConfigDef;
import dev.stagefarm.config.ConfigKey;
import dev.stagefarm.config.ConfigType;
import dev.stagefarm.config.ConfigValues;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The command-line side of a role's key table: one flag {@code --KEY} per key (and per alias), {@code
 * --no-KEY} for booleans, {@code --set KEY=VALUE}, {@code --config FILE} and {@code --print-config}. The
 * flags are generated from the table, so a key added there is a flag at once; the values go to the
 * role's {@link dev.stagefarm.config.ConfigLoader} with the file and the environment.
 */
final class ConfigOptions {
  private ConfigOptions() {}

  /** What the command line gave: the YAML file, the keys set by flags, whether to print the config. */
  record Given(Path file, Map<String, String> flags, boolean printConfig) {}

  /** Adds the table's options to a command (a picocli model transformer calls this). */
  static CommandSpec addTo(CommandSpec spec, ConfigDef def) {
    spec.addOption(OptionSpec.builder("--config").paramLabel("FILE").type(Path.class)
        .description("YAML file of " + def.role() + " settings (docs/configuration.md).").build());
    spec.addOption(OptionSpec.builder("--set").paramLabel("KEY=VALUE").type(Map.class)
        .auxiliaryTypes(String.class, String.class)
        .description("Set any key of docs/configuration.md (repeatable).").build());
    spec.addOption(OptionSpec.builder("--print-config").arity("0").type(boolean.class)
        .description("Print every setting with where it came from (secrets masked) and exit.").build());
    for (ConfigKey<?> key : def.keys()) {
      String[] names = key.names().stream().map(n -> "--" + n).toArray(String[]::new);
      OptionSpec.Builder option = OptionSpec.builder(names).paramLabel(key.label()).description(description(key));
      if (key.type() == ConfigType.BOOLEAN) {
        option.arity("0..1").fallbackValue("true").type(String.class);
      } else if (key.type() == ConfigType.LIST) {
        option.type(List.class).auxiliaryTypes(String.class);
      } else {
        option.type(String.class);
      }
      spec.addOption(option.build());
      if (key.type() == ConfigType.BOOLEAN) {
        spec.addOption(OptionSpec.builder("--no-" + key.name()).arity("0").type(boolean.class)
            .description("Same as --" + key.name() + "=false.").build());
      }
    }
    return spec;
  }

  /** The options the user gave, as key name → text. */
  static Given given(CommandSpec spec, ConfigDef def) {
    ParseResult parsed = spec.commandLine().getParseResult();
    Map<String, String> flags = new LinkedHashMap<>();
    for (ConfigKey<?> key : def.keys()) {
      OptionSpec option = spec.findOption("--" + key.name());
      if (parsed.hasMatchedOption(option)) {
        Object value = option.getValue();
        flags.put(key.name(), value instanceof List<?> list ? String.join(",", list.stream().map(String::valueOf)
            .toList()) : String.valueOf(value));
      }
      OptionSpec negated = spec.findOption("--no-" + key.name());
      if (negated != null && parsed.hasMatchedOption(negated)) {
        if (flags.containsKey(key.name())) {
          throw new UserError("--" + key.name() + " and --no-" + key.name() + " contradict each other");
        }
        flags.put(key.name(), "false");
      }
    }
    OptionSpec set = spec.findOption("--set");
    if (parsed.hasMatchedOption(set)) {
      Map<?, ?> extra = set.getValue();
      for (Map.Entry<?, ?> e : extra.entrySet()) {
        String name = String.valueOf(e.getKey());
        String canonical = def.find(name).map(ConfigKey::name).orElse(name);
        if (flags.containsKey(canonical)) {
          throw new UserError("--" + canonical + " and --set " + name + " both set " + canonical + ": keep one");
        }
        flags.put(name, String.valueOf(e.getValue()));
      }
    }
    OptionSpec file = spec.findOption("--config");
    return new Given(parsed.hasMatchedOption(file) ? file.getValue() : null, flags,
        parsed.hasMatchedOption(spec.findOption("--print-config")));
  }

  static void print(ConfigValues values, PrintStream out) {
    values.describe().forEach(out::println);
    out.flush();
  }

  private static String description(ConfigKey<?> key) {
    List<String> parts = new ArrayList<>();
    parts.add(key.doc().replace("`", ""));
    if (!key.validator().rule().isEmpty()) {
      parts.add("Must be " + key.validator().rule());
    }
    parts.add("Default: " + key.defaultText().replace("`", "") + ". Env " + key.envName());
    // picocli reads %… as format specifiers and ${…} as variables in descriptions
    return (String.join(". ", parts) + ".").replace("%", "%%").replace("${", "$${");
  }
}
