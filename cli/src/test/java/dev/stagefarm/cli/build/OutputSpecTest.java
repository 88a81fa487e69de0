package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OutputSpecTest {
  @Test
  void fileOutputsFollowBuildxSyntax() {
    assertThat(OutputSpec.parse("type=oci,dest=/tmp/x.tar"))
        .isEqualTo(new OutputSpec(OutputSpec.Type.OCI, Optional.of("/tmp/x.tar"), List.of(), false));
    assertThat(OutputSpec.parse("type=local,dest=out").type()).isEqualTo(OutputSpec.Type.LOCAL);
    assertThat(OutputSpec.parse("type=tar,dest=-").toStdout()).isTrue();
  }

  @Test
  void aBarePathIsLocalAndABareDashIsATarOnStandardOutput() {
    assertThat(OutputSpec.parse("./out")).isEqualTo(new OutputSpec(OutputSpec.Type.LOCAL, Optional.of("./out"), List.of(), false));
    assertThat(OutputSpec.parse("-")).isEqualTo(new OutputSpec(OutputSpec.Type.TAR, Optional.of("-"), List.of(), false));
  }

  @Test
  void imageOutputsTakeQuotedNameListsAndRegistryAlwaysPushes() {
    OutputSpec image = OutputSpec.parse("type=image,\"name=a.example/x:1,a.example/x:2\",push=true");
    assertThat(image.names()).containsExactly("a.example/x:1", "a.example/x:2");
    assertThat(image.push()).isTrue();
    assertThat(OutputSpec.parse("type=image,name=x").push()).isFalse();
    assertThat(OutputSpec.parse("type=registry,name=x").push()).isTrue();
  }

  @Test
  void mistakesAreUsageErrorsNamingTheProblem() {
    assertUsage("type=local", "needs dest=DIR");
    assertUsage("type=local,dest=-", "type=tar,dest=-");
    assertUsage("type=docker", "--load");
    assertUsage("type=s3,dest=x", "unknown type \"s3\"");
    assertUsage("type=oci,dest=x,compression=zstd", "\"compression\" is not supported yet");
    assertUsage("type=registry,name=x,push=false", "always pushes");
    assertUsage("type=image,dest=x", "has no dest");
    assertUsage("type=tar,dest=x,name=y", "name and push belong to");
    assertUsage("type=image,\"name=x", "quoted field is not closed");
  }

  private static void assertUsage(String text, String message) {
    assertThatThrownBy(() -> OutputSpec.parse(text))
        .isInstanceOf(UserError.class)
        .hasMessageContaining(message)
        .satisfies(e -> assertThat(((UserError) e).exitCode()).isEqualTo(ExitCodes.USAGE));
  }
}
