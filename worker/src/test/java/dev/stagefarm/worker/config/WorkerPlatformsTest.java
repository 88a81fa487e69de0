package dev.stagefarm.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Platform;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerPlatformsTest {
  @TempDir Path binfmt;

  @Test
  void theHostsOwnPlatformNeedsNoEmulator() {
    assertThat(WorkerPlatforms.parse(WorkerPlatforms.host().toString(), binfmt)).containsExactly(WorkerPlatforms.host());
  }

  @Test
  void aForeignPlatformNeedsAnEnabledQemuHandlerAndSaysWhichWhenThereIsNone() throws Exception {
    String foreign = WorkerPlatforms.host().architecture().equals("arm64") ? "linux/amd64" : "linux/arm64";
    String qemu = foreign.equals("linux/arm64") ? "qemu-aarch64" : "qemu-x86_64";
    assertThatThrownBy(() -> WorkerPlatforms.parse(foreign, binfmt))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("platforms: " + foreign + " is not this host's platform")
        .hasMessageContaining(binfmt.resolve(qemu).toString())
        .hasMessageContaining("install qemu-user-static");

    Files.writeString(binfmt.resolve(qemu), "disabled\ninterpreter /usr/libexec/qemu-binfmt/x\n");
    assertThatThrownBy(() -> WorkerPlatforms.parse(foreign, binfmt)).isInstanceOf(ConfigException.class);

    Files.writeString(binfmt.resolve(qemu), "enabled\ninterpreter /usr/libexec/qemu-binfmt/x\n");
    assertThat(WorkerPlatforms.parse(WorkerPlatforms.host() + ", " + foreign + "/v8", binfmt))
        .containsExactly(WorkerPlatforms.host(), Platform.parse(foreign));
  }

  @Test
  void platformsTheFarmDoesNotRouteOrGivenTwiceAreConfigErrors() {
    assertThatThrownBy(() -> WorkerPlatforms.parse("linux/mips64", binfmt))
        .hasMessageStartingWith("platforms: the farm builds for linux/amd64, linux/arm64");
    String host = WorkerPlatforms.host().toString();
    assertThatThrownBy(() -> WorkerPlatforms.parse(host + "," + host, binfmt))
        .hasMessage("platforms: " + host + " is given twice");
    assertThatThrownBy(() -> WorkerPlatforms.parse("linux", binfmt)).hasMessageStartingWith("platforms: invalid platform");
    assertThatThrownBy(() -> WorkerPlatforms.parse(" , ", binfmt)).hasMessageStartingWith("platforms: name at least one");
  }
}
