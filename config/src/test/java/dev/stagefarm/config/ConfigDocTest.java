package dev.stagefarm.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md is rendered from the key tables. When this fails, regenerate it:
 * {@code ./mvnw -q -pl config test -Dtest=ConfigDocTest -Dstagefarm.docs.write=true}.
 */
class ConfigDocTest {
  private static final Path DOC = Path.of("..", "docs", "configuration.md");

  @Test
  void theCommittedConfigurationDocIsTheRenderedTables() throws Exception {
    String committed = Files.readString(DOC);
    String rendered = ConfigDoc.update(committed);
    if (Boolean.getBoolean("stagefarm.docs.write") && !rendered.equals(committed)) {
      Files.writeString(DOC, rendered);
      committed = rendered;
    }
    assertThat(committed)
        .as("docs/configuration.md is stale: ./mvnw -q -pl config test -Dtest=ConfigDocTest -Dstagefarm.docs.write=true")
        .isEqualTo(rendered);
  }

  @Test
  void everyKeyOfEveryRoleAndEveryOtherVariableIsInTheDoc() throws Exception {
    String doc = Files.readString(DOC);
    for (ConfigDef def : Roles.ALL) {
      for (ConfigKey<?> key : def.keys()) {
        assertThat(doc).as("%s key %s", def.role(), key.name()).contains("| `" + key.name() + "`");
      }
    }
    OtherVariables.ALL.keySet().forEach(v -> assertThat(doc).contains("| `" + v + "`"));
  }

  @Test
  void aPipeInTheDocumentationDoesNotBreakTheTable() {
    String table = ConfigDoc.render("api-keys");
    assertThat(table).contains("IDENTITY client\\|admin");
    table.lines().skip(2).forEach(row -> assertThat(row.split("(?<!\\\\)\\|", -1)).hasSize(7));
  }
}
