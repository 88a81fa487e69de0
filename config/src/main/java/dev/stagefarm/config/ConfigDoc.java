package dev.stagefarm.config;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders the key tables into docs/configuration.md. The document keeps its hand-written prose; each
 * generated section sits between {@code <!-- generated: NAME -->} and {@code <!-- end generated -->}
 * and is replaced whole by {@link #update}. ConfigDocTest fails when the committed file differs.
 */
public final class ConfigDoc {
  private ConfigDoc() {}

  private static final Pattern SECTION =
      Pattern.compile("(<!-- generated: ([a-z-]+) -->\\n)(.*?)(<!-- end generated -->)", Pattern.DOTALL);

  /** The sections a document may hold, by name. */
  public static String render(String section) {
    return switch (section) {
      case "common-keys" -> table(CommonKeys.ALL);
      case "worker-keys" -> table(WorkerKeys.OWN);
      case "coordinator-keys" -> table(CoordinatorKeys.OWN);
      case "scheduling-keys" -> table(CoordinatorKeys.SCHEDULING);
      case "api-keys" -> table(CoordinatorKeys.API);
      case "registry-keys" -> table(CoordinatorKeys.REGISTRY);
      case "up-keys" -> table(UpKeys.OWN);
      case "other-variables" -> otherVariables();
      default -> throw new IllegalArgumentException("no generated section '" + section + "'");
    };
  }

  /** The document with every generated section rendered anew. */
  public static String update(String document) {
    Matcher m = SECTION.matcher(document);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + render(m.group(2)) + m.group(4)));
    }
    m.appendTail(out);
    return out.toString();
  }

  static String table(List<ConfigKey<?>> keys) {
    StringBuilder b = new StringBuilder("| key | environment | type | default | meaning |\n|---|---|---|---|---|\n");
    for (ConfigKey<?> key : keys) {
      String name = "`" + key.name() + "`";
      String env = "`" + key.envName() + "`";
      if (!key.aliases().isEmpty()) {
        name += " (also " + String.join(", ", key.aliases().stream().map(a -> "`" + a + "`").toList()) + ")";
        env += " (also " + String.join(", ", key.aliases().stream().map(a -> "`" + ConfigKey.envName(a) + "`")
            .toList()) + ")";
      }
      String meaning = key.doc();
      if (!key.validator().rule().isEmpty()) {
        meaning += ". Must be " + key.validator().rule();
      }
      if (key.secret()) {
        meaning += ". **Secret**: never printed (`--print-config` shows `****`)";
      }
      String deflt = key.defaultText();
      if (!deflt.startsWith("`") && !deflt.contains(" ")) {
        deflt = key.required() || deflt.equals("none") ? deflt : "`" + deflt + "`";
      }
      b.append("| ").append(cell(name)).append(" | ").append(cell(env)).append(" | ").append(cell(key.type().name()))
          .append(" | ").append(cell(deflt)).append(" | ").append(cell(meaning)).append(" |\n");
    }
    return b.toString();
  }

  private static String otherVariables() {
    StringBuilder b = new StringBuilder("| variable | read by |\n|---|---|\n");
    for (Map.Entry<String, String> e : OtherVariables.ALL.entrySet()) {
      b.append("| `").append(e.getKey()).append("` | ").append(cell(e.getValue())).append(" |\n");
    }
    return b.toString();
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }
}
