package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.Descriptor;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.SignedCacheRecord;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CacheRecordCodecTest {
  private static final CacheKey KEY = new CacheKey("a".repeat(64));
  private static final FarmKeys FARM = FarmKeys.generate();
  private static final Layer LAYER = Layer.newBuilder()
      .setBlob(Descriptor.newBuilder().setDigest("sha256:" + "b".repeat(64)).setSize(3))
      .setDiffId("sha256:" + "c".repeat(64))
      .build();

  @Test
  void aRecordReadsBackItsLayerOrTheAbsenceOfOne() {
    assertThat(CacheRecordCodec.decode(KEY, CacheRecordCodec.encode(KEY, Optional.of(LAYER), 1, FARM), FARM))
        .contains(LAYER);
    assertThat(CacheRecordCodec.decode(KEY, CacheRecordCodec.encode(KEY, Optional.empty(), 1, FARM), FARM)).isEmpty();
  }

  @Test
  void aRecordStoredUnderAnotherKeyANewerSchemaOrGarbageIsRefused() {
    CacheKey other = new CacheKey("d".repeat(64));
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, CacheRecordCodec.encode(other, Optional.of(LAYER), 1, FARM),
        FARM)).hasMessageContaining("another key");
    byte[] newer = sign(CacheRecord.newBuilder().setSchemaVersion(99).setCacheKey(KEY.hex()).build(), FARM);
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, newer, FARM)).hasMessageContaining("schema 99");
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, new byte[] {(byte) 0xff, 0x01}, FARM))
        .hasMessageContaining("unreadable");
  }

  @Test
  void anEditedRecordARecordSignedWithAnotherKeyOrAnUnsignedOneIsRefused() {
    Layer swapped = LAYER.toBuilder().setDiffId("sha256:" + "e".repeat(64)).build();
    SignedCacheRecord genuine = parse(CacheRecordCodec.encode(KEY, Optional.of(LAYER), 1, FARM));
    byte[] edited = genuine.toBuilder()
        .setPayload(CacheRecord.newBuilder().setSchemaVersion(2).setCacheKey(KEY.hex()).setLayer(swapped)
            .build().toByteString())
        .build().toByteArray();
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, edited, FARM)).hasMessageContaining("MAC");

    byte[] foreign = CacheRecordCodec.encode(KEY, Optional.of(swapped), 1, FarmKeys.generate());
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, foreign, FARM)).hasMessageContaining("MAC");

    byte[] unsigned = CacheRecord.newBuilder().setSchemaVersion(2).setCacheKey(KEY.hex()).setLayer(swapped)
        .build().toByteArray();
    assertThatThrownBy(() -> CacheRecordCodec.decode(KEY, unsigned, FARM)).isInstanceOf(IllegalArgumentException.class);
  }

  private static byte[] sign(CacheRecord record, FarmKeys keys) {
    FarmKeys.Seal seal = keys.seal(FarmKeys.Purpose.CACHE_RECORD, record.toByteArray());
    return SignedCacheRecord.newBuilder().setPayload(record.toByteString()).setKeyId(seal.keyId())
        .setMac(ByteString.copyFrom(seal.mac())).build().toByteArray();
  }

  private static SignedCacheRecord parse(byte[] bytes) {
    try {
      return SignedCacheRecord.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
