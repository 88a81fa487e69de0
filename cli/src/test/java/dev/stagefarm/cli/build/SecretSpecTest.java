package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.UserError;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --secret} as docker buildx reads it. */
class SecretSpecTest {
  @TempDir Path dir;
  final Function<String, String> env = Map.of("API_TOKEN", "from-env", "OTHER", "other-value")::get;

  private String value(String text) {
    return new String(SecretSpec.parse(text, env).value(), StandardCharsets.UTF_8);
  }

  @Test
  void fileSecretsTakeTheirIdFromTheFileNameWhenNotGiven() throws Exception {
    Path file = Files.writeString(dir.resolve("npmrc"), "from-file");
    assertThat(SecretSpec.parse("id=npm,src=" + file, env).id()).isEqualTo("npm");
    assertThat(value("id=npm,src=" + file)).isEqualTo("from-file");
    assertThat(SecretSpec.parse("source=" + file, env).id()).isEqualTo("npmrc");
    assertThat(SecretSpec.parse("type=file,src=" + file, env).id()).isEqualTo("npmrc");
    // quoted CSV field, as buildx's reader takes it
    assertThat(value("id=npm,\"src=" + file + "\"")).isEqualTo("from-file");
  }

  @Test
  void envSecretsTakeTheirIdFromTheVariableAndTheVariableFromTheId() {
    assertThat(SecretSpec.parse("id=tok,env=API_TOKEN", env).id()).isEqualTo("tok");
    assertThat(value("id=tok,env=API_TOKEN")).isEqualTo("from-env");
    assertThat(SecretSpec.parse("env=API_TOKEN", env).id()).isEqualTo("API_TOKEN");
    assertThat(value("type=env,id=API_TOKEN")).isEqualTo("from-env");
    assertThat(value("type=env,id=x,src=OTHER")).isEqualTo("other-value"); // buildx: src names the variable
  }

  @Test
  void anIdAloneIsTheVariableWhenSetElseTheFile() throws Exception {
    assertThat(value("id=API_TOKEN")).isEqualTo("from-env");
    Path file = Files.writeString(dir.resolve("plain"), "file-named-by-id");
    assertThat(new String(SecretSpec.parse("id=" + file, name -> null).value(), StandardCharsets.UTF_8))
        .isEqualTo("file-named-by-id");
  }

  @Test
  void mistakesNameTheFieldFileOrVariable() throws Exception {
    assertThatThrownBy(() -> SecretSpec.parse("id=a,kind=file", env)).isInstanceOf(UserError.class)
        .hasMessageContaining("unexpected key 'kind'");
    assertThatThrownBy(() -> SecretSpec.parse("id=a,src", env)).isInstanceOf(UserError.class)
        .hasMessageContaining("invalid field 'src' must be a key=value pair");
    assertThatThrownBy(() -> SecretSpec.parse("type=ssh,id=a", env)).isInstanceOf(UserError.class)
        .hasMessageContaining("unsupported secret type \"ssh\"");
    assertThatThrownBy(() -> SecretSpec.parse("id=a,env=NOT_SET_ANYWHERE", env)).isInstanceOf(UserError.class)
        .hasMessage("--secret id=a: environment variable NOT_SET_ANYWHERE is not set");
    assertThatThrownBy(() -> SecretSpec.parse("id=a,src=" + dir.resolve("missing"), env)).isInstanceOf(UserError.class)
        .hasMessageContaining("file " + dir.resolve("missing") + " not found");
    assertThatThrownBy(() -> SecretSpec.parse("type=file", env)).isInstanceOf(UserError.class)
        .hasMessageContaining("has no id");
    Path big = Files.write(dir.resolve("big"), new byte[SecretSpec.MAX_BYTES + 1]);
    assertThatThrownBy(() -> SecretSpec.parse("id=big,src=" + big, env)).isInstanceOf(UserError.class)
        .hasMessageContaining("over the limit of 512000 bytes per secret");
  }

  @Test
  void theValueNeverPrints() {
    assertThat(SecretSpec.parse("id=API_TOKEN", env).toString()).isEqualTo("SecretSpec[API_TOKEN]");
  }
}
