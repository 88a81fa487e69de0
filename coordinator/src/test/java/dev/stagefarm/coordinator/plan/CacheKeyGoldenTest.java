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
        "820dc98eb270013ed5176d2b87d9c433f37ab75dca8d23b646e4bbf28f2a7e5c", // 5 WORKDIR /src
        "f21eb9453ced6726039dcae903e46d868e872fb51203ef7aaf313ad2255971da", // 6 COPY go.mod go.sum ./
        "ca433daf29e7e020355cfb6aef40398fde4b10cf54366f4df66c5a65bc846952", // 7 RUN --mount=type=cache
        "18253686a469cba787fad01cf8a7c1717dc691e6706080c668645899d8f17980", // 8 COPY . .
        "9c668b08b47e08102060c5e4dafd2d24f608992a371f145c05a61b7e9e3c4ef6"); // 9 RUN --mount=type=bind,secret

    PlannedStage runtime = plan.stage("1-runtime");
    assertThat(runtime.program().rootKey().hex())
        .isEqualTo("aa4b3f184fbbb6b2a56b8c20ef42ee41db438aec28e24a8d2447e256214f15cd");
    // the runtime reads the build stage: its input key is that stage's final key
    assertThat(runtime.program().inputs()).singleElement()
        .satisfies(input -> assertThat(input.key()).isEqualTo(build.chainKey()));
    assertThat(hex(runtime.opKeys())).containsExactly(
        "a0ecb52c241d405a74c0ade667da842ac9bb7da390ac362ffea8f46f3537753a", // 14 ARG VERSION=dev
        "07db1bb44c8f9b25fd57f107e0d1390a31fe0a60dbbe6e851b6639ba7636a4da", // 15 ENV APP_VERSION=$VERSION
        "0c96af1f470b5d933a314195b101ebc0fb1340f621faa5e6d2a60c6fb0cc532e", // 16 RUN --mount=type=bind,from=build
        "5c0fa0f4c8d69f3acf2d678cd906ea50894301b6f3d696e603dfa67083d2be45", // 17 COPY --from=build --chmod=0755
        "62b61c94bf03272c5b6201fde3de75a1b6493155064965e4ad8a456936aec6f8", // 18 COPY --parents config/./*.yaml
        "8cf88430daa70c7320f31ae3ab98940d6cf619b56159d03655046177ffa5c5b7", // 19 COPY <<EOF /etc/app/motd
        "a508c12e368fd05398ae83176ddb0a0bd315712d284b783b28325d0c350248b8", // 22 ADD --checksum=… URL
        "a0b2a4abe73f83b5db3a896e2eedc3045d5e0fb067bbd291c202b1eb78e35721", // 23 EXPOSE
        "a82b4d9e9c5f310eb592b714fb52ac43fde81b9d8567da99f66763d052769564", // 24 USER 1000
        "c7fead2443e48a6dc05b2c6c3831abf2894d6ac4c5309b62b38f4608e6bfbb85", // 25 WORKDIR /srv
        "43d567eaa86f4c64aa536c5e5b999696cfac9195cf2c81e53f10953368ce9495"); // 26 ENTRYPOINT
  }

  private static List<String> hex(List<CacheKey> keys) {
    return keys.stream().map(CacheKey::hex).toList();
  }
}
