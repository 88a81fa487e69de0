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
  void theHistoryTextIsNotPartOfTheKey() {
    Op env = Programs.env();
    Op renamed = Op.metadata(env.source(), "ENV A=1 # written another way", env.config());

    assertThat(CacheKeys.next(ROOT, renamed, INPUTS)).isEqualTo(CacheKeys.next(ROOT, env, INPUTS));
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
            "e67eb6b784fbbae690e32aa83ad512ff7d296b57e5da902db1510e387d336277",
            "7bbeb814a3a2d99c43f67e2627374115940f0ffaa76c49394056a9763eb0d8d4",
            "9cd607a59f224d3159c67353879cf96f8dd230e48546ec2c7f70fce09c9b9ff8",
            "ed116b294416655ff58bd4dd1dc4d1106983341c107416213b9e0c6ca6a957b0",
            "6f2838b42e14d80e8fe28e95aab57c4048157737fee213b3e0ff2249de86a30a",
            "de6916997510f30b4c959b424f4c7ca6fed3db3e0dc9948b48330a67c30a4da6",
            "1b51010477ef7ad1b899aa1293d25db3143b20c054e420887499a6b3eccc01ad");
  }
}
