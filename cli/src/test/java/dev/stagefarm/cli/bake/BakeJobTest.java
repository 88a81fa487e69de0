package dev.stagefarm.cli.bake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.bake.BakeDefinition;
import dev.stagefarm.bake.BakeFiles;
import dev.stagefarm.bake.BakeResolver;
import dev.stagefarm.bake.BakeTarget;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.OutputSpec;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bake target's attributes become the same request and outputs {@code stagefarm build}'s flags make. */
class BakeJobTest {

  private static BakeTarget target(Path dir, String body) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM busybox\n");
    Path file = Files.writeString(dir.resolve("docker-bake.hcl"),
        "target \"app\" {\n  context = \"" + dir + "\"\n" + body + "}\n");
    BakeDefinition definition = BakeFiles.read(List.of(file), new ByteArrayInputStream(new byte[0]), k -> null);
    return BakeResolver.resolve(definition, List.of("app"),
        new BakeResolver.Options(k -> null, List.of(), "linux/amd64")).targets().get("app");
  }

  @Test
  void labelsAnnotationsNetworkAndOutputsGoIntoTheRequestAsBuildFlagsWould(@TempDir Path dir) throws Exception {
    BakeJob job = BakeJob.of(target(dir, """
          labels = { "team" = "x", "tier" = "web" }
          annotations = ["manifest:org.opencontainers.image.title=app"]
          network = "none"
          tags = ["reg/app:1"]
          output = ["type=local,dest=OUT", "type=image,name=reg/app:2,push=true"]
        """.replace("OUT", dir.resolve("out").toString())), k -> null);

    SubmitBuildRequest request = job.request().build();
    assertThat(request.getLabelsMap()).isEqualTo(Map.of("team", "x", "tier", "web"));
    assertThat(request.getAnnotationsMap()).isEqualTo(Map.of("org.opencontainers.image.title", "app"));
    assertThat(request.getNetwork()).isEqualTo("none");
    assertThat(request.getTagsList()).containsExactly("reg/app:1", "reg/app:2");
    assertThat(job.push()).isTrue();
    assertThat(job.outputs()).extracting(OutputSpec::type)
        .containsExactly(OutputSpec.Type.LOCAL, OutputSpec.Type.IMAGE);
    assertThat(request.getOutputsList()).extracting(o -> o.getType()).containsExactly("local", "registry");
  }

  @Test
  void anUnknownNetworkOrAnnotationTypeNamesTheTarget(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> BakeJob.of(target(dir, "  network = \"bridge\"\n"), k -> null))
        .isInstanceOf(UserError.class).hasMessageContaining("target \"app\": network must be default, none or host");
    assertThatThrownBy(() -> BakeJob.of(target(dir, "  annotations = [\"index:k=v\"]\n"), k -> null))
        .isInstanceOf(UserError.class).hasMessageContaining("target \"app\": --annotation index:k=v");
  }
}
