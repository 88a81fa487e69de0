package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheKeys;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pins the cache key of every op of a real multi-stage build ({@link GoldenBuild}), as the
 * coordinator compiles and keys it. A key is a promise across the farm and across releases: a
 * record written under it is served to every later build with the same key. So any change to what
 * goes into a key (the compiler's output for an instruction, the program encoding, the derivation)
 * must fail here. When the change is deliberate, bump {@link CacheKeys#KEY_VERSION} so records
 * written under the old meaning are never served, and update these values on purpose.
 */
class CacheKeyGoldenTest {

  @Test
  void everyOpKeyOfTheGoldenBuildIsPinned() throws Exception {
    BuildPlan plan = GoldenBuild.plan("b1");
    assertThat(CacheKeys.KEY_VERSION).isEqualTo("v2");
    assertThat(plan.stages()).extracting(PlannedStage::id).containsExactly("0-build", "1-runtime");

    PlannedStage build = plan.stage("0-build");
    assertThat(build.program().rootKey().hex())
        .isEqualTo("80502a266ac690c8d8106135ec7c1aadf023d52b5c0348aa7b10f24ea0485b99");
    assertThat(hex(build.opKeys())).containsExactly(
        "a107ee4d5d408cc28fae4c7a53132f0ee36053899ddd51f76a7a0c6cc84a7ecc", // 4 ARG TARGETOS
        "a3af83417545b20e2febc256ca20185d2aa3644cc82df629f4d65bc7b6b93741", // 5 WORKDIR /src
        "5cdd725e05b6c8f08ea1e3018d0b3c2406c53cf519864dd717868fc0b323a3ea", // 6 COPY go.mod go.sum ./
        "1041a4e904f15f6cb5d313c1f714e891840b3398a1a949622973c0a75aa001e8", // 7 RUN --mount=type=cache
        "b5bbfb6a26ecf5580a8cb475ec124b1128b870c56ac0283d851f3d5bfa273b83", // 8 COPY . .
        "2696f026fa27fb1aab2e0bce3946c4c0ae08843c412c07f418eab7d6a605aaa5"); // 9 RUN --mount=type=bind,secret

    PlannedStage runtime = plan.stage("1-runtime");
    assertThat(runtime.program().rootKey().hex())
        .isEqualTo("aa4b3f184fbbb6b2a56b8c20ef42ee41db438aec28e24a8d2447e256214f15cd");
    // the runtime reads the build stage: its input key is that stage's final key
    assertThat(runtime.program().inputs()).singleElement()
        .satisfies(input -> assertThat(input.key()).isEqualTo(build.chainKey()));
    assertThat(hex(runtime.opKeys())).containsExactly(
        "a0ecb52c241d405a74c0ade667da842ac9bb7da390ac362ffea8f46f3537753a", // 14 ARG VERSION=dev
        "d475b29d1958c6e21f709de1b63f992b2025d4667c030d78c8f503b068e2d1a4", // 15 ENV APP_VERSION=$VERSION
        "3c43a2d1542e788cb6f4106633cf4870a851d2a29b2e1292522fcc33f983969e", // 16 RUN --mount=type=bind,from=build
        "da1034cd64c7d4cbcc6890b76ee6d5dbb76d238df6c771076b62229683bf99ac", // 17 COPY --from=build --chmod=0755
        "a9b22a17ddc420745f93ce859fcb86275c830f29041350bdd9e34850ed0561d6", // 18 COPY --parents config/./*.yaml
        "68c5cbbba18e75b590fee688ef2b951fd0ffed2324ccfc72862ceaa663577b9b", // 19 COPY <<EOF /etc/app/motd
        "68401f5fa9c949ed4da93bcc803aa29db1361dfeeaa7c854403aa70e8e85b01d", // 22 ADD --checksum=… URL
        "2fc1f99c868f8b2c8d7a98801bf7f49d01624a74007e12af1e6b91b3794b5a68", // 23 EXPOSE
        "7c9eb4f45d91e5fe992eda307c0106a6b38ee5cc3f5479f0368bdcb964d42560", // 24 USER 1000
        "6e00b5d0cf62915a50bd62ff090e9b9e5f39acc172308947e9eb7c3d773be5bc", // 25 WORKDIR /srv
        "e68960963939d2cd64a1d761dc523fda7168c6126bd25b9393782f17e12d53d2"); // 26 ENTRYPOINT
  }

  private static List<String> hex(List<CacheKey> keys) {
    return keys.stream().map(CacheKey::hex).toList();
  }
}
