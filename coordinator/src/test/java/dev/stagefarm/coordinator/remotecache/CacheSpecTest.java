package dev.stagefarm.coordinator.remotecache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CacheSpecTest {
  @Test
  void readsBuildxsRegistryAndLocalForms() {
    CacheSpec max = CacheSpec.parse("type=registry,ref=reg.example/cache:main,mode=max", true);
    assertThat(max.type()).isEqualTo(CacheSpec.Type.REGISTRY);
    assertThat(max.mode()).isEqualTo(CacheSpec.Mode.MAX);
    assertThat(max.reference().toString()).isEqualTo("reg.example/cache:main");
    assertThat(CacheSpec.parse("type=registry,ref=r/c:1", true).mode()).isEqualTo(CacheSpec.Mode.MIN);
    assertThat(CacheSpec.parse("reg.example/cache:main", false).type()).isEqualTo(CacheSpec.Type.REGISTRY);
    CacheSpec local = CacheSpec.parse("type=local,dest=/tmp/c,mode=max,ignore-error=true", true);
    assertThat(local.location()).isEqualTo("/tmp/c");
    assertThat(local.ignoreError()).isTrue();
    assertThat(local.canonical(true)).isEqualTo("type=local,dest=/tmp/c,mode=max,ignore-error=true");
    // attributes about how BuildKit compresses its blobs are accepted and do not change what stagefarm writes
    assertThat(CacheSpec.parse("type=registry,ref=r/c:1,oci-mediatypes=true,image-manifest=true", true).canonical(true))
        .isEqualTo("type=registry,ref=r/c:1,mode=min");
  }

  @Test
  void refusesWhatItCannotDoNamingTheFlag() {
    assertThatThrownBy(() -> CacheSpec.parse("type=gha", false)).hasMessage(
        "--cache-from type=gha: type \"gha\" is not supported (stagefarm imports and exports type=registry and"
            + " type=local; docs/cli.md)");
    assertThatThrownBy(() -> CacheSpec.parse("type=registry,ref=r/c:1,mode=all", true))
        .hasMessage("--cache-to type=registry,ref=r/c:1,mode=all: mode must be min or max, not \"all\"");
    assertThatThrownBy(() -> CacheSpec.parse("type=registry,ref=r/c:1,mode=max", false))
        .hasMessageContaining("mode is a --cache-to attribute");
    assertThatThrownBy(() -> CacheSpec.parse("type=local,tag=x", true)).hasMessageContaining("dest= is missing");
    assertThatThrownBy(() -> CacheSpec.parse("type=local,dest=rel", true)).hasMessageContaining("absolute");
    assertThatThrownBy(() -> CacheSpec.parse("type=registry,ref=r/c:1,bogus=1", false))
        .hasMessageContaining("unknown attribute \"bogus\"");
    assertThatThrownBy(() -> CacheSpec.parse("type=registry,ref=UPPER/Case", false)).hasMessageContaining("--cache-from");
  }

  @Test
  void aConfigRoundTripsAndForeignRecordsAreLeftOut() {
    CacheConfig config = new CacheConfig(
        List.of(new CacheConfig.Layer(dev.stagefarm.oci.Digest.of("l"), -1, "application/vnd.oci.image.layer.v1.tar",
            Optional.of(dev.stagefarm.oci.Digest.of("d")), 1, "1970-01-01T00:00:00Z")),
        List.of(new CacheConfig.Record("sha256:" + "a".repeat(64), List.of(), Optional.of(0), false),
            new CacheConfig.Record("sha256:" + "b".repeat(64), List.of(0), Optional.empty(), true)));
    assertThat(CacheConfig.parse(config.toJson())).isEqualTo(config);
    assertThatThrownBy(() -> CacheConfig.parse("[1]".getBytes())).hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> CacheConfig.parse("{".getBytes())).hasMessageContaining("not JSON");
  }
}
