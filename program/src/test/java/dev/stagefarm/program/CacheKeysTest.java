package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Platform;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CacheKeysTest {
  private static final CacheKey ROOT = new CacheKey("e".repeat(64));
  private static final List<ProgramInput> INPUTS = List.of(Programs.BUILD, Programs.ALPINE);

  @Test
  void theLineAndTextOfAnOpAreNotPartOfItsKey() {
    assertThat(CacheKeys.next(ROOT, Programs.copyApp(1, 3), INPUTS))
        .isEqualTo(CacheKeys.next(ROOT, Programs.copyApp(1, 30), INPUTS));
  }

  @Test
  void contextFileTimesAreNotPartOfTheKeyButTheirDigestsAre() {
    assertThat(CacheKeys.next(ROOT, Programs.copyApp(1, 3), INPUTS))
        .isEqualTo(CacheKeys.next(ROOT, Programs.copyApp(99_999, 3), INPUTS));
    Op changed = Programs.copyApp(1, 3);
    var copy = (Action.Copy) changed.action().orElseThrow();
    var selection = ((CopySource.FromContext) copy.sources().get(0)).selection();
    var entries = new java.util.ArrayList<>(selection.entries());
    ContextFile main = entries.get(1);
    entries.set(1, new ContextFile(main.path(), main.type(), main.mode(), "sha256:" + "2".repeat(64), main.size(),
        "", main.mtimeMs()));
    Op edited = Op.of(changed.source(), changed.createdBy(), new Action.Copy(
        List.of(new CopySource.FromContext(new ContextSelection(selection.path(), selection.placeAt(), entries))),
        copy.dest(), copy.destIsDir(), copy.chown(), copy.chmod(), copy.exclude(), copy.parents(), copy.link(),
        copy.unpack()));

    assertThat(CacheKeys.next(ROOT, edited, INPUTS)).isNotEqualTo(CacheKeys.next(ROOT, changed, INPUTS));
  }

  @Test
  void aNewResultOfAnInputChangesTheKeysOfTheOpsThatReadIt() {
    List<ProgramInput> rebuilt = List.of(new ProgramInput(Programs.BUILD.id(), new CacheKey("f".repeat(64)), "build"),
        Programs.ALPINE);

    assertThat(CacheKeys.next(ROOT, Programs.copyFromBuild("/out"), rebuilt))
        .isNotEqualTo(CacheKeys.next(ROOT, Programs.copyFromBuild("/out"), INPUTS));
    assertThat(CacheKeys.next(ROOT, Programs.env(), rebuilt)).isEqualTo(CacheKeys.next(ROOT, Programs.env(), INPUTS));
  }

  @Test
  void theParentAndEveryResolvedValueChangeTheKey() {
    CacheKey other = new CacheKey("0".repeat(64));
    assertThat(CacheKeys.next(other, Programs.env(), INPUTS)).isNotEqualTo(CacheKeys.next(ROOT, Programs.env(), INPUTS));
    assertThat(CacheKeys.next(ROOT, Programs.copyFromBuild("/out"), INPUTS))
        .isNotEqualTo(CacheKeys.next(ROOT, Programs.copyFromBuild("/out2"), INPUTS));
  }

  @Test
  void aChainFollowsTheOpsFromTheRoot() {
    StageProgram program = Programs.everything();

    List<CacheKey> chain = CacheKeys.chain(program);

    assertThat(chain).hasSize(program.ops().size()).doesNotHaveDuplicates();
    assertThat(chain.get(0)).isEqualTo(CacheKeys.next(program.rootKey(), program.ops().get(0), program.inputs()));
    assertThat(chain.get(3)).isEqualTo(CacheKeys.next(chain.get(2), program.ops().get(3), program.inputs()));
  }

  @Test
  void rootsDependOnBasePlatformAndSourceDateEpoch() {
    String manifest = "sha256:" + "a".repeat(64);
    CacheKey amd = CacheKeys.imageRoot(manifest, Platform.LINUX_AMD64, Optional.empty());

    assertThat(CacheKeys.imageRoot(manifest, Platform.LINUX_ARM64, Optional.empty())).isNotEqualTo(amd);
    assertThat(CacheKeys.imageRoot(manifest, Platform.LINUX_AMD64, Optional.of(Instant.EPOCH))).isNotEqualTo(amd);
    assertThat(CacheKeys.scratchRoot(Platform.LINUX_AMD64, Optional.empty())).isNotEqualTo(amd);
  }

  @Test
  void anOpReadingAnUndeclaredInputHasNoKey() {
    assertThatThrownBy(() -> CacheKeys.next(ROOT, Programs.copyFromBuild("/x"), List.of(Programs.ALPINE)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("stage:1-build");
  }

  /**
   * Golden values: what goes into a key is part of the farm's contract (records written by one
   * version are served to another). If this fails, the derivation changed: bump
   * {@link CacheKeys#KEY_VERSION} and update these values deliberately.
   */
  @Test
  void keysArePinned() {
    assertThat(CacheKeys.scratchRoot(Platform.LINUX_AMD64, Optional.empty()).hex()).isEqualTo("2b2f798a9a08f7139dc69866bb85b3e349cecb532298999ff57e012f78fde359");
    assertThat(CacheKeys.chain(Programs.everything()).stream().map(CacheKey::hex).toList())
        .containsExactly(
            "575bf9da7ebb5d4d5cfd11f365114c6cda32d027feb14bb60de32769f3eec93a",
            "3c9997d1ab550f10c06d693b503d5af51bde740d009b98af94a0d6d76726f61d",
            "6cda9a754e9f1163d5e496b5b8c03a33de8e024ad8c7f4f0be6e0e427f04723e",
            "eb61d94e22bb740ef445eb7b70e7a24422bdbee95fc44229dbd8d7557900a448",
            "ad2ea3847e0cd8a68d9804c730ef0cc57cb11a299b3b9f5bec3225e9742d13ab",
            "a58a377d4e9ca21ec2ee003216d6daf00c46abb029ab94b33397700e1314fcd3",
            "ff8e8f73e251a4e6907c667929ede6551c04d90f09bc65c94f5e0ae2a5936c85");
  }
}
