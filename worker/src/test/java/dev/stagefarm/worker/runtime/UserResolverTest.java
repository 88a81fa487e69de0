package dev.stagefarm.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserResolverTest {
  @TempDir Path rootfs;

  @BeforeEach
  void image() throws Exception {
    Files.createDirectories(rootfs.resolve("etc"));
    Files.writeString(rootfs.resolve("etc/passwd"), """
        root:x:0:0:root:/root:/bin/sh
        app:x:1000:1000:app:/home/app:/bin/sh
        """);
    Files.writeString(rootfs.resolve("etc/group"), """
        root:x:0:
        app:x:1000:
        docker:x:999:app,other
        """);
  }

  @Test
  void resolvesNamesIdsAndGroups() throws Exception {
    assertThat(UserResolver.resolve(rootfs, "app")).isEqualTo(new ResolvedUser(1000, 1000, java.util.List.of(999L), "/home/app"));
    assertThat(UserResolver.resolve(rootfs, "")).isEqualTo(new ResolvedUser(0, 0, java.util.List.of(), "/root"));
    assertThat(UserResolver.resolve(rootfs, "app:docker").gid()).isEqualTo(999);
    assertThat(UserResolver.resolve(rootfs, "4242").uid()).isEqualTo(4242);
    assertThat(UserResolver.resolve(rootfs, "4242:77").gid()).isEqualTo(77);
  }

  @Test
  void aChownOwnerIsResolvedAsBuildKitDoes() throws Exception {
    assertThat(UserResolver.resolveOwner(rootfs, "1001")).extracting(ResolvedUser::uid, ResolvedUser::gid)
        .containsExactly(1001L, 1001L); // a uid alone is also the group, even for a uid passwd has
    assertThat(UserResolver.resolveOwner(rootfs, "1000").gid()).isEqualTo(1000);
    assertThat(UserResolver.resolveOwner(rootfs, "app")).extracting(ResolvedUser::uid, ResolvedUser::gid)
        .containsExactly(1000L, 1000L);
    assertThat(UserResolver.resolveOwner(rootfs, "app:docker").gid()).isEqualTo(999);
    assertThat(UserResolver.resolveOwner(rootfs, "0:77").gid()).isEqualTo(77);
    assertThatThrownBy(() -> UserResolver.resolveOwner(rootfs, "app:nogroup"))
        .isInstanceOf(UserResolver.UnknownUserException.class).hasMessageContaining("nogroup");
  }

  @Test
  void anUnknownNameIsAnError() {
    assertThatThrownBy(() -> UserResolver.resolve(rootfs, "nobody-here"))
        .isInstanceOf(UserResolver.UnknownUserException.class).hasMessageContaining("nobody-here");
  }

  @Test
  void symlinksResolveInsideTheRoot() throws Exception {
    Files.createDirectories(rootfs.resolve("real"));
    Files.createSymbolicLink(rootfs.resolve("link"), Path.of("/real"));
    Files.createSymbolicLink(rootfs.resolve("escape"), Path.of("../../../../etc"));
    assertThat(RootfsPaths.resolveLenient(rootfs, "/link/x")).isEqualTo(rootfs.resolve("real/x"));
    assertThat(RootfsPaths.resolveLenient(rootfs, "/escape/passwd")).isEqualTo(rootfs.resolve("etc/passwd"));
  }
}
