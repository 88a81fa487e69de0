package dev.stagefarm.bake;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.bake.hcl.HclException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The bake files of buildx's documentation (test resources buildx-docs/, see its README), read unchanged. */
class BuildxDocExamplesTest {

  static Path docs() throws URISyntaxException {
    return Path.of(BuildxDocExamplesTest.class.getResource("/buildx-docs/README.md").toURI()).getParent();
  }

  static BakeResolver.Result bake(Map<String, String> env, List<String> sets, List<String> names, Path... files) {
    BakeDefinition definition = BakeFiles.read(List.of(files), new ByteArrayInputStream(new byte[0]), env::get);
    return BakeResolver.resolve(definition, names, new BakeResolver.Options(env::get, sets, "linux/amd64"));
  }

  static Stream<String> printed() throws Exception {
    try (Stream<Path> files = Files.list(docs())) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".print.json"))
          .map(n -> n.substring(0, n.length() - ".print.json".length())).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("printed")
  void printsWhatTheBuildxDocumentationShows(String example) throws IOException, URISyntaxException {
    Path dir = docs();
    List<String> names = Files.readAllLines(dir.resolve(example + ".args")).stream().filter(l -> !l.isBlank()).toList();
    Path file = Files.exists(dir.resolve(example + ".hcl")) ? dir.resolve(example + ".hcl") : dir.resolve(example + ".json");
    String expected = Files.readString(dir.resolve(example + ".print.json"), StandardCharsets.UTF_8).strip();

    assertThat(BakePrinter.print(bake(Map.of(), List.of(), names, file))).isEqualTo(expected);
  }

  @Test
  void theHclAndJsonDefinitionsOfTheGuideResolveAlike() throws Exception {
    var hcl = bake(Map.of(), List.of(), List.of("default", "webapp-release"), docs().resolve("file-definition.hcl"));
    var json = bake(Map.of(), List.of(), List.of("default", "webapp-release"), docs().resolve("file-definition.json"));

    assertThat(BakePrinter.print(json)).isEqualTo(BakePrinter.print(hcl));
    assertThat(hcl.targets()).containsOnlyKeys("db", "webapp-dev", "webapp-release");
    assertThat(hcl.targets().get("webapp-release").list(TargetAttribute.TAGS)).containsExactly("docker.io/username/webapp:latest");
    assertThat(hcl.targets().get("webapp-release").string(TargetAttribute.DOCKERFILE)).isEqualTo("Dockerfile.webapp");
    assertThat(hcl.targets().get("webapp-release").list(TargetAttribute.PLATFORMS)).containsExactly("linux/amd64", "linux/arm64");
  }

  @Test
  void anEnvironmentVariableOverridesAVariablesDefault() throws Exception {
    var result = bake(Map.of("TAG", "dev"), List.of(), List.of("webapp"), docs().resolve("reference-json-syntax.json"));

    assertThat(result.targets().get("webapp").list(TargetAttribute.TAGS)).containsExactly("docker.io/username/webapp:dev");
  }

  @Test
  void theHclAndJsonSyntaxExamplesAreTheSameFile() throws Exception {
    assertThat(BakePrinter.print(bake(Map.of(), List.of(), List.of(), docs().resolve("reference-json-syntax.json"))))
        .isEqualTo(BakePrinter.print(bake(Map.of(), List.of(), List.of(), docs().resolve("reference-hcl-syntax.hcl"))));
  }

  @Test
  void aMatrixForksOnEveryAxis() throws Exception {
    var result = bake(Map.of(), List.of(), List.of("app"), docs().resolve("reference-matrix-axes.hcl"));

    assertThat(result.targets()).containsOnlyKeys("app-foo-1-0", "app-foo-2-0", "app-bar-1-0", "app-bar-2-0");
    assertThat(result.targets().get("app-bar-2-0").string(TargetAttribute.TARGET)).isEqualTo("bar");
    assertThat(result.targets().get("app-bar-2-0").map(TargetAttribute.ARGS)).containsEntry("VERSION", "2.0");
  }

  @Test
  void aMatrixOfMapsReadsNestedValues() throws Exception {
    var result = bake(Map.of(), List.of(), List.of("app"), docs().resolve("reference-matrix-maps.hcl"));

    assertThat(result.targets()).containsOnlyKeys("app-foo-1-0", "app-bar-2-0");
    assertThat(result.targets().get("app-foo-1-0").map(TargetAttribute.ARGS)).containsEntry("VERSION", "1.0");
  }

  @Test
  void aGroupWinsOverATargetOfTheSameName() throws Exception {
    var result = bake(Map.of(), List.of(), List.of(), docs().resolve("reference-group-precedence.hcl"));

    assertThat(result.targets()).containsOnlyKeys("alpine", "debian");
    assertThat(result.targets().get("alpine").string(TargetAttribute.DOCKERFILE_INLINE)).isEqualTo("FROM alpine");
  }

  @Test
  void aNullArgLeavesTheDockerfilesDefault() throws Exception {
    var result = bake(Map.of(), List.of(), List.of("db"), docs().resolve("reference-args-null.hcl"));

    assertThat(result.targets().get("db").map(TargetAttribute.ARGS)).containsEntry("GO_VERSION", null);
    assertThat(BakePrinter.print(result)).doesNotContain("GO_VERSION");
  }

  @Test
  void theStandardLibraryAndUserFunctionsOfTheGuide() throws Exception {
    assertThat(bake(Map.of(), List.of(), List.of("webapp-dev"), docs().resolve("functions-stdlib.hcl"))
        .targets().get("webapp-dev").map(TargetAttribute.ARGS)).containsEntry("buildno", "124");
    assertThat(bake(Map.of(), List.of(), List.of("webapp-dev"), docs().resolve("functions-user.hcl"))
        .targets().get("webapp-dev").map(TargetAttribute.ARGS)).containsEntry("buildno", "124");
  }

  @Test
  void secretsInterpolateAVariableFromTheEnvironment() throws Exception {
    var result = bake(Map.of("HOME", "/home/me"), List.of(), List.of(), docs().resolve("reference-secret.hcl"));

    assertThat(result.targets().get("default").list(TargetAttribute.SECRET))
        .containsExactly("type=env,id=KUBECONFIG", "type=file,id=aws,src=/home/me/.aws/credentials");
  }

  @Test
  void anInlineDockerfileKeepsItsEscapes() throws Exception {
    var result = bake(Map.of(), List.of(), List.of(), docs().resolve("reference-inline.hcl"));

    assertThat(result.targets().get("default").string(TargetAttribute.DOCKERFILE_INLINE))
        .isEqualTo("FROM alpine\nENTRYPOINT [\"echo\", \"hello\"]");
  }

  @Test
  void aComposeFileBuildsEachServiceWithABuildSection() throws Exception {
    var result = bake(Map.of(), List.of(), List.of(), docs().resolve("file-definition-compose.yml"));

    assertThat(result.targets()).containsOnlyKeys("webapp", "db");
    assertThat(result.targets().get("webapp").list(TargetAttribute.TAGS)).containsExactly("docker.io/username/webapp:latest");
    assertThat(result.targets().get("db").string(TargetAttribute.DOCKERFILE)).isEqualTo("Dockerfile.db");
    assertThat(Path.of(result.targets().get("db").string(TargetAttribute.CONTEXT)).toAbsolutePath().normalize())
        .isEqualTo(docs().toAbsolutePath().normalize());
  }

  @Test
  void laterFilesMergeIntoEarlierOnes(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    // the guide's docker-bake.hcl + docker-bake2.hcl example
    Path first = Files.writeString(dir.resolve("docker-bake.hcl"), """
        target "webapp-dev" {
          dockerfile = "Dockerfile.webapp"
          tags = ["docker.io/username/webapp:latest"]
        }
        """);
    Path second = Files.writeString(dir.resolve("docker-bake2.hcl"), """
        target "webapp-dev" {
          tags = ["docker.io/username/webapp:dev"]
        }
        """);

    var target = bake(Map.of(), List.of(), List.of("webapp-dev"), first, second).targets().get("webapp-dev");

    assertThat(target.list(TargetAttribute.TAGS)).containsExactly("docker.io/username/webapp:dev");
    assertThat(target.string(TargetAttribute.DOCKERFILE)).isEqualTo("Dockerfile.webapp");
  }

  @Test
  void anUndeclaredVariableIsNamedWithItsPlace(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    // the reference's "Unknown variable" example
    Path file = Files.writeString(dir.resolve("docker-bake.hcl"), """
        target "default" {
          dockerfile-inline = "FROM ${BASE_IMAGE}"
        }
        """);

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> bake(Map.of(), List.of(), List.of(), file))
        .isInstanceOf(HclException.class)
        .hasMessageContaining("docker-bake.hcl:2:31")
        .hasMessageContaining("unknown variable \"BASE_IMAGE\"");
  }
}
