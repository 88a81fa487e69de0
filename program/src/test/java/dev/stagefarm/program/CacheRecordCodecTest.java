package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.Descriptor;
import dev.stagefarm.proto.v1.Layer;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CacheRecordCodecTest {
  private static final CacheKey KEY = new CacheKey("a".repeat(64));
  private static final Layer LAYER = Layer.newBuilder()
      .setBlob(Descriptor.newBuilder().setDigest("sha256:" + "b".repeat(64)).setSize(3))
      .setDiffId("sha256:" + "c".repeat(64))
      .build();

  @Test
  void aRecordReadsBackItsLayerOrTheAbsenceOfOne() {
    assertThat(CacheRecordCodec.decode(KEY, CacheRecordCodec.encode(KEY, Optional.of(LAYER), 1))).contains(LAYER);
    assertThat(CacheRecordCodec.decode(KEY, CacheRecordCodec.encode(KEY, Optional.empty(), 1))).isEmpty();
  }

  @Test
  void aRecordStoredUnderAnotherKeyANewerSchemaOrGarbageIsRefused() {
    CacheKey other = new CacheKey("d".repeat(64));
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, CacheRecordCodec.encode(other, Optional.of(LAYER), 1)))
        .hasMessageContaining("another key");
    byte[] newer = CacheRecord.newBuilder().setSchemaVersion(99).setCacheKey(KEY.hex()).build().toByteArray();
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, newer)).hasMessageContaining("schema 99");
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, new byte[] {(byte) 0xff, 0x01}))
        .hasMessageContaining("unreadable");
  }
}
