package dev.stagefarm.bake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.bake.hcl.HclException;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BakeResolverTest {

  static BakeResolver.Result bake(String hcl, Map<String, String> env, List<String> sets, String... names) {
    BakeDefinition definition = BakeFileReader.hcl("docker-bake.hcl", hcl);
    return BakeResolver.resolve(definition, List.of(names), new BakeResolver.Options(env::get, sets, "linux/amd64"));
  }

  @Test
  void anInheritsCycleIsAnErrorNamingTheCycle() {
    assertThatThrownBy(() -> bake("""
        target "a" { inherits = ["b"] }
        target "b" { inherits = ["c"] }
        target "c" { inherits = ["a"] }
        """, Map.of(), List.of(), "a"))
        .isInstanceOf(HclException.class)
        .hasMessageContaining("inherits cycle: a → b → c → a");
  }

  @Test
  void aGroupCycleIsAnErrorNamingTheCycle() {
    assertThatThrownBy(() -> bake("""
        group "all" { targets = ["more"] }
        group "more" { targets = ["all"] }
        """, Map.of(), List.of(), "all"))
        .hasMessageContaining("group cycle: all → more → all");
  }

  @Test
  void variablesThatReferToEachOtherInACycleAreAnError() {
    assertThatThrownBy(() -> bake("""
        variable "A" { default = "${B}-a" }
        variable "B" { default = "${A}-b" }
        target "default" { tags = [A] }
        """, Map.of(), List.of()))
        .hasMessageContaining("variable cycle: A → B → A");
  }

  @Test
  void variablesThatDoubleAStringRunIntoTheStringLimit() {
    StringBuilder hcl = new StringBuilder("variable \"V0\" { default = \"xxxxxxxxxxxxxxxx\" }\n");
    for (int i = 1; i <= 40; i++) {
      hcl.append("variable \"V").append(i).append("\" { default = \"${V").append(i - 1).append("}${V").append(i - 1)
          .append("}\" }\n");
    }
    hcl.append("target \"default\" { tags = [V40] }\n");

    assertThatThrownBy(() -> bake(hcl.toString(), Map.of(), List.of())).hasMessageContaining("over the limit of");
  }

  @Test
  void aMatrixOverTheLimitIsRefusedByName() {
    assertThatThrownBy(() -> bake("""
        target "big" {
          matrix = { a = range(100), b = range(100) }
          name = "big-${a}-${b}"
        }
        """, Map.of(), List.of(), "big"))
        .hasMessageContaining("docker-bake.hcl:2:3: the matrix of \"big\" makes more than " + BakeResolver.MAX_MATRIX);
  }

  @Test
  void matrixNamesMustBeUniqueAndValid() {
    assertThatThrownBy(() -> bake("""
        target "app" {
          matrix = { v = ["1", "2"] }
          name = "app"
        }
        """, Map.of(), List.of(), "app"))
        .hasMessageContaining("makes the name \"app\" twice");
    assertThatThrownBy(() -> bake("""
        target "app" {
          matrix = { v = ["1.0"] }
          name = "app-${v}"
        }
        """, Map.of(), List.of(), "app"))
        .hasMessageContaining("target name \"app-1.0\" may only have letters, digits, - and _");
  }

  @Test
  void environmentValuesTakeTheTypeOfTheDefault() {
    String hcl = """
        variable "PUSH" { default = false }
        variable "N" { default = 1 }
        target "default" {
          no-cache = PUSH
          args = { NEXT = N + 1 }
        }
        """;

    var target = bake(hcl, Map.of("PUSH", "true", "N", "41"), List.of()).targets().get("default");

    assertThat(target.bool(TargetAttribute.NO_CACHE)).isTrue();
    assertThat(target.map(TargetAttribute.ARGS)).containsEntry("NEXT", "42");
    assertThatThrownBy(() -> bake(hcl, Map.of("N", "many"), List.of()))
        .hasMessageContaining("variable N is a number; the environment has \"many\"");
  }

  @Test
  void aFailedValidationSaysWhy() {
    String hcl = """
        variable "TAG" {
          default = "latest"
          validation {
            condition = TAG != ""
            error_message = "TAG must not be empty"
          }
        }
        target "default" { tags = ["app:${TAG}"] }
        """;

    assertThat(bake(hcl, Map.of(), List.of()).targets().get("default").list(TargetAttribute.TAGS)).containsExactly("app:latest");
    assertThatThrownBy(() -> bake(hcl, Map.of("TAG", ""), List.of())).hasMessageContaining("TAG must not be empty");
  }

  @Test
  void setOverridesAttributesOfMatchingTargets() {
    String hcl = """
        group "default" { targets = ["api", "web"] }
        target "api" { tags = ["api:1"] }
        target "web" { tags = ["web:1"] }
        """;

    var result = bake(hcl, Map.of(), List.of("*.args.VERSION=2", "web.tags=web:2", "web.tags=web:latest",
        "api.platform=linux/amd64", "a*.no-cache=true", "*.push=true"));

    assertThat(result.targets().get("api").map(TargetAttribute.ARGS)).containsEntry("VERSION", "2");
    assertThat(result.targets().get("web").map(TargetAttribute.ARGS)).containsEntry("VERSION", "2");
    assertThat(result.targets().get("web").list(TargetAttribute.TAGS)).containsExactly("web:2", "web:latest");
    assertThat(result.targets().get("api").list(TargetAttribute.TAGS)).containsExactly("api:1");
    assertThat(result.targets().get("api").list(TargetAttribute.PLATFORMS)).containsExactly("linux/amd64");
    assertThat(result.targets().get("api").bool(TargetAttribute.NO_CACHE)).isTrue();
    assertThat(result.targets().get("web").bool(TargetAttribute.NO_CACHE)).isFalse();
    assertThat(result.targets().get("web").list(TargetAttribute.OUTPUT)).containsExactly("type=registry");
  }

  @Test
  void badSetsAreNamed() {
    String hcl = "target \"default\" {}\n";

    assertThatThrownBy(() -> bake(hcl, Map.of(), List.of("default.colour=red")))
        .hasMessageContaining("--set default.colour=red: unknown key \"colour\"");
    assertThatThrownBy(() -> bake(hcl, Map.of(), List.of("nothing.tags=x")))
        .hasMessageContaining("no target to build matches \"nothing\"");
    assertThatThrownBy(() -> bake(hcl, Map.of(), List.of("tags")))
        .hasMessageContaining("--set wants PATTERN.KEY=VALUE");
  }

  @Test
  void unknownNamesAttributesAndBlocksAreNamed() {
    assertThatThrownBy(() -> bake("target \"a\" {}\n", Map.of(), List.of(), "b"))
        .hasMessageContaining("no target or group named \"b\" (it defines: a)");
    assertThatThrownBy(() -> bake("target \"a\" {\n  colour = \"red\"\n}\n", Map.of(), List.of(), "a"))
        .hasMessageContaining("docker-bake.hcl:2:3: unknown target attribute \"colour\"");
    assertThatThrownBy(() -> bake("service \"a\" {}\n", Map.of(), List.of(), "a"))
        .hasMessageContaining("unknown block type \"service\"");
    assertThatThrownBy(() -> bake("target \"a\" {\n  tags = target.b.tags\n}\n", Map.of(), List.of(), "a"))
        .hasMessageContaining("target.NAME.ATTR) are not supported");
    assertThatThrownBy(() -> bake("target \"a\" {}\n", Map.of(), List.of()))
        .hasMessageContaining("no target given and the bake file has no \"default\" group or target (it defines: a)");
  }

  @Test
  void theLastParentWinsAndTheTargetWinsOverAll() {
    var target = bake("""
        target "base" {
          args = { A = "base", B = "base" }
          secret = ["id=one"]
          tags = ["base"]
        }
        target "other" {
          args = { B = "other" }
          secret = ["id=two"]
        }
        target "app" {
          inherits = ["base", "other"]
          args = { C = "app" }
        }
        """, Map.of(), List.of(), "app").targets().get("app");

    assertThat(target.map(TargetAttribute.ARGS)).containsExactly(
        Map.entry("A", "base"), Map.entry("B", "other"), Map.entry("C", "app"));
    assertThat(target.list(TargetAttribute.SECRET)).containsExactly("id=one", "id=two");
    assertThat(target.list(TargetAttribute.TAGS)).containsExactly("base");
  }

  @Test
  void aFileOverTheSizeLimitIsRefusedBeforeParsing(@TempDir Path dir) throws Exception {
    Path big = Files.write(dir.resolve("docker-bake.hcl"), new byte[BakeFileReader.MAX_FILE_BYTES + 1]);

    assertThatThrownBy(() -> BakeFiles.read(List.of(big), new ByteArrayInputStream(new byte[0]), k -> null))
        .hasMessageContaining("bake files are limited to " + BakeFileReader.MAX_FILE_BYTES + " bytes");
  }

  @Test
  void theDefaultFilesAreFoundInBuildxOrderAndAllRead(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("docker-bake.override.hcl"), "target \"default\" { tags = [\"over\"] }\n");
    Files.writeString(dir.resolve("docker-bake.hcl"), "target \"default\" {\n  tags = [\"base\"]\n  target = \"t\"\n}\n");

    List<Path> files = BakeFiles.defaults(dir);
    var target = BakeResolver.resolve(BakeFiles.read(files, new ByteArrayInputStream(new byte[0]), k -> null), List.of(),
        new BakeResolver.Options(k -> null, List.of(), "linux/amd64")).targets().get("default");

    assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("docker-bake.hcl", "docker-bake.override.hcl");
    assertThat(target.list(TargetAttribute.TAGS)).containsExactly("over");
    assertThat(target.string(TargetAttribute.TARGET)).isEqualTo("t");
    assertThatThrownBy(() -> BakeFiles.defaults(dir.resolve("empty").toFile().mkdir() ? dir.resolve("empty") : dir))
        .hasMessageContaining("no bake file found");
  }

  @Test
  void composeInterpolatesTheEnvironment() {
    String compose = """
        services:
          app:
            image: reg/app:${TAG:-latest}
            build:
              context: ./app
              args:
                - VERSION=${VERSION}
          db:
            image: postgres
        """;

    var result = BakeResolver.resolve(ComposeFile.read("compose.yaml", compose, Path.of("."), Map.of("VERSION", "3")::get),
        List.of(), new BakeResolver.Options(k -> null, List.of(), "linux/amd64"));

    assertThat(result.targets()).containsOnlyKeys("app");
    assertThat(result.targets().get("app").list(TargetAttribute.TAGS)).containsExactly("reg/app:latest");
    assertThat(result.targets().get("app").map(TargetAttribute.ARGS)).containsEntry("VERSION", "3");
    assertThat(result.targets().get("app").string(TargetAttribute.CONTEXT)).isEqualTo("app");
  }

  @Test
  void composeYamlBombsAreRefused() {
    StringBuilder bomb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
      bomb.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 10; j++) {
        bomb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
      }
      bomb.append("]\n");
    }
    bomb.append("services: {}\n");

    assertThatThrownBy(() -> ComposeFile.read("compose.yaml", bomb.toString(), Path.of("."), k -> null))
        .isInstanceOf(HclException.class)
        .hasMessageContaining("not a compose file");
  }
}
