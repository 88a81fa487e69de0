package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FarmKeysTest {
  private static final byte[] PAYLOAD = "a task".getBytes(StandardCharsets.UTF_8);

  @Test
  void aMacVerifiesOnlyForItsPayloadPurposeAndKey() {
    FarmKeys keys = FarmKeys.generate();
    FarmKeys.Seal seal = keys.seal(FarmKeys.Purpose.TASK, PAYLOAD);
    assertThat(keys.verify(FarmKeys.Purpose.TASK, PAYLOAD, seal.keyId(), seal.mac())).isTrue();
    assertThat(keys.verify(FarmKeys.Purpose.EVENT, PAYLOAD, seal.keyId(), seal.mac())).isFalse();
    assertThat(keys.verify(FarmKeys.Purpose.TASK, "a tasK".getBytes(StandardCharsets.UTF_8), seal.keyId(), seal.mac()))
        .isFalse();
    assertThat(keys.verify(FarmKeys.Purpose.TASK, PAYLOAD, "other", seal.mac())).isFalse();
    assertThat(keys.verify(FarmKeys.Purpose.TASK, PAYLOAD, seal.keyId(), null)).isFalse();
    FarmKeys.Seal forged = FarmKeys.generate().seal(FarmKeys.Purpose.TASK, PAYLOAD);
    assertThat(keys.verify(FarmKeys.Purpose.TASK, PAYLOAD, forged.keyId(), forged.mac())).isFalse();
  }

  @Test
  void kafkaHeadersCarryTheKeyIdAndMacAndAMissingHeaderFailsVerification() {
    FarmKeys keys = FarmKeys.generate();
    java.util.Map<String, byte[]> headers = keys.headers(FarmKeys.Purpose.EVENT, PAYLOAD);
    assertThat(headers).containsOnlyKeys(FarmKeys.KEY_ID_HEADER, FarmKeys.MAC_HEADER);
    assertThat(new String(headers.get(FarmKeys.KEY_ID_HEADER), StandardCharsets.UTF_8)).isEqualTo(keys.signingKeyId());
    assertThat(keys.verifyHeaders(FarmKeys.Purpose.EVENT, PAYLOAD, headers::get)).isTrue();
    assertThat(keys.verifyHeaders(FarmKeys.Purpose.EVENT, PAYLOAD, name -> null)).isFalse();
    assertThat(keys.verifyHeaders(FarmKeys.Purpose.EVENT, PAYLOAD,
        name -> name.equals(FarmKeys.MAC_HEADER) ? null : headers.get(name))).isFalse();
    assertThat(keys.verifyHeaders(FarmKeys.Purpose.EVENT, null, headers::get)).isFalse();
  }

  @Test
  void aRotatedRingSignsWithItsFirstKeyAndStillVerifiesTheOld(@TempDir Path dir) throws Exception {
    byte[] oldKey = new byte[32];
    byte[] newKey = new byte[48];
    newKey[0] = 1;
    FarmKeys before = FarmKeys.of(List.of(oldKey));
    Path file = dir.resolve("farm.key");
    Files.writeString(file, "# rotated\n" + Base64.getEncoder().encodeToString(newKey) + "\n\n"
        + Base64.getEncoder().encodeToString(oldKey) + "\n");
    FarmKeys after = FarmKeys.load(file);

    FarmKeys.Seal old = before.seal(FarmKeys.Purpose.EVENT, PAYLOAD);
    assertThat(after.verify(FarmKeys.Purpose.EVENT, PAYLOAD, old.keyId(), old.mac())).isTrue();
    FarmKeys.Seal fresh = after.seal(FarmKeys.Purpose.EVENT, PAYLOAD);
    assertThat(fresh.keyId()).isNotEqualTo(old.keyId()).isEqualTo(after.signingKeyId());
    assertThat(before.verify(FarmKeys.Purpose.EVENT, PAYLOAD, fresh.keyId(), fresh.mac())).isFalse();
  }

  @Test
  void aShortKeyOrAnEmptyFileIsRefusedNamingTheLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("farm.key");
    Files.writeString(file, "# comment\n" + Base64.getEncoder().encodeToString(new byte[16]) + "\n");
    assertThatThrownBy(() -> FarmKeys.load(file)).hasMessageContaining("line 2").hasMessageContaining("32");
    Files.writeString(file, "# nothing\n");
    assertThatThrownBy(() -> FarmKeys.load(file)).hasMessageContaining("holds no key");
  }

  @Test
  void aFarmHomeGetsOneOwnerOnlyKeyFileThatLaterStartsReuse(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("home/farm.key");
    FarmKeys first = FarmKeys.loadOrCreate(file);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(FarmKeys.loadOrCreate(file).signingKeyId()).isEqualTo(first.signingKeyId());
    assertThat(first.toString()).contains(first.signingKeyId());
  }
}
