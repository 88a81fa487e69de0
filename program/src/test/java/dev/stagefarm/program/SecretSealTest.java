package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.proto.v1.SealedSecrets;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretSealTest {
  private static final byte[] TOKEN = "s3cr3t-token-value".getBytes(StandardCharsets.UTF_8);
  private static final Map<String, byte[]> SECRETS = Map.of("token", TOKEN, "other", new byte[] {0, 1, 2});

  @Test
  void sealedSecretsOpenForTheirBuildAndHoldNoValueInClear() throws Exception {
    FarmKeys keys = FarmKeys.generate();
    byte[] sealed = SecretSeal.seal(keys, SecretSeal.Kind.BUILD_SECRETS, "b1", SECRETS);
    assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("s3cr3t");
    Map<String, byte[]> opened = SecretSeal.open(keys, SecretSeal.Kind.BUILD_SECRETS, "b1", sealed);
    assertThat(opened).containsOnlyKeys("token", "other");
    assertThat(opened.get("token")).isEqualTo(TOKEN);
    assertThat(opened.get("other")).isEqualTo(new byte[] {0, 1, 2});
  }

  @Test
  void theSameValueSealsDifferentlyEachTime() {
    FarmKeys keys = FarmKeys.generate();
    byte[] first = SecretSeal.seal(keys, SecretSeal.Kind.BUILD_SECRETS, "b1", Map.of("token", TOKEN));
    byte[] second = SecretSeal.seal(keys, SecretSeal.Kind.BUILD_SECRETS, "b1", Map.of("token", TOKEN));
    assertThat(first).isNotEqualTo(second); // a fresh nonce per seal
  }

  @Test
  void anotherBuildsIdOrFarmKeyCannotOpenThem() throws Exception {
    FarmKeys keys = FarmKeys.generate();
    byte[] sealed = SecretSeal.seal(keys, SecretSeal.Kind.BUILD_SECRETS, "b1", SECRETS);
    assertThatThrownBy(() -> SecretSeal.open(keys, SecretSeal.Kind.BUILD_SECRETS, "b2", sealed))
        .isInstanceOf(SecretSeal.SealException.class).hasMessageContaining("not build b2's");
    // the build id rewritten in the envelope: the key and the associated data are b2's, the tag fails
    byte[] relabelled = SealedSecrets.parseFrom(sealed).toBuilder().setBuildId("b2").build().toByteArray();
    assertThatThrownBy(() -> SecretSeal.open(keys, SecretSeal.Kind.BUILD_SECRETS, "b2", relabelled))
        .isInstanceOf(SecretSeal.SealException.class).hasMessageContaining("does not verify");
    assertThatThrownBy(() -> SecretSeal.open(FarmKeys.generate(), SecretSeal.Kind.BUILD_SECRETS, "b1", sealed))
        .isInstanceOf(SecretSeal.SealException.class).hasMessageContaining("does not hold");
  }

  @Test
  void anEditedOrMovedValueDoesNotVerify() throws Exception {
    FarmKeys keys = FarmKeys.generate();
    SealedSecrets sealed = SealedSecrets.parseFrom(SecretSeal.seal(keys, SecretSeal.Kind.BUILD_SECRETS, "b1", SECRETS));
    byte[] ciphertext = sealed.getSecrets(0).getCiphertext().toByteArray();
    ciphertext[0] ^= 1;
    byte[] edited = sealed.toBuilder().setSecrets(0, sealed.getSecrets(0).toBuilder()
        .setCiphertext(com.google.protobuf.ByteString.copyFrom(ciphertext))).build().toByteArray();
    assertThatThrownBy(() -> SecretSeal.open(keys, SecretSeal.Kind.BUILD_SECRETS, "b1", edited))
        .isInstanceOf(SecretSeal.SealException.class).hasMessageContaining("does not verify");
    // a value moved under another id: the associated data names the id
    byte[] moved = sealed.toBuilder().setSecrets(0, sealed.getSecrets(0).toBuilder().setId("renamed"))
        .build().toByteArray();
    assertThatThrownBy(() -> SecretSeal.open(keys, SecretSeal.Kind.BUILD_SECRETS, "b1", moved))
        .isInstanceOf(SecretSeal.SealException.class).hasMessageContaining("renamed");
  }

  @Test
  void secretsSealedBeforeARotationStillOpenWithTheOldKeyListedSecond() throws Exception {
    byte[] oldKey = new byte[32];
    byte[] newKey = new byte[32];
    new java.security.SecureRandom().nextBytes(oldKey);
    new java.security.SecureRandom().nextBytes(newKey);
    byte[] sealed = SecretSeal.seal(FarmKeys.of(List.of(oldKey)), SecretSeal.Kind.BUILD_SECRETS, "b1", SECRETS);
    assertThat(SecretSeal.open(FarmKeys.of(List.of(newKey, oldKey)), SecretSeal.Kind.BUILD_SECRETS, "b1", sealed)
        .get("token")).isEqualTo(TOKEN);
  }

  @Test
  void hkdfMatchesRfc5869TestCase1() {
    HexFormat hex = HexFormat.of();
    byte[] ikm = hex.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    byte[] salt = hex.parseHex("000102030405060708090a0b0c");
    byte[] info = hex.parseHex("f0f1f2f3f4f5f6f7f8f9");
    assertThat(hex.formatHex(FarmKeys.hkdfSha256(salt, ikm, info)))
        .isEqualTo("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
  }

  @Test
  void derivedKeysDifferPerBuildAndNeverPrintTheirBytes() {
    FarmKeys keys = FarmKeys.generate();
    FarmKeys.DerivedKey b1 = keys.derive("label", "b1".getBytes(StandardCharsets.UTF_8));
    FarmKeys.DerivedKey b2 = keys.derive("label", "b2".getBytes(StandardCharsets.UTF_8));
    assertThat(b1.key()).hasSize(32).isNotEqualTo(b2.key());
    assertThat(b1.toString()).isEqualTo("DerivedKey[" + keys.signingKeyId() + "]");
    assertThat(BuildSecrets.of(SECRETS).toString()).isEqualTo("BuildSecrets[other, token]");
  }
}
