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
  @Test
  void theCoordinatorsKeySignsTasksThatWorkersVerifyAndWorkersCannotSignOne(@TempDir Path dir) throws Exception {
    Role roles = Role.generate(dir);

    FarmKeys.Seal task = roles.coordinator().seal(FarmKeys.Purpose.TASK, PAYLOAD);
    assertThat(roles.worker().verify(FarmKeys.Purpose.TASK, PAYLOAD, task.keyId(), task.mac())).isTrue();
    assertThatThrownBy(() -> roles.worker().seal(FarmKeys.Purpose.TASK, PAYLOAD))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("no key that signs tasks");
  }

  @Test
  void aTaskSignedWithTheWorkersPrivateKeyIsRejected(@TempDir Path dir) throws Exception {
    Role roles = Role.generate(dir);
    // a worker that turned hostile relabels its own private key as the coordinator's
    String workerPrivate = Files.readAllLines(roles.workerFile()).stream()
        .filter(l -> l.startsWith("worker-private ")).findFirst().orElseThrow();
    Path forgedFile = dir.resolve("forged.key");
    Files.writeString(forgedFile, workerPrivate.replace("worker-private", "coordinator-private") + "\n");
    FarmKeys.Seal forged = FarmKeys.load(forgedFile).seal(FarmKeys.Purpose.TASK, PAYLOAD);

    assertThat(roles.worker().verify(FarmKeys.Purpose.TASK, PAYLOAD, forged.keyId(), forged.mac())).isFalse();
    assertThat(roles.coordinator().verify(FarmKeys.Purpose.TASK, PAYLOAD, forged.keyId(), forged.mac())).isFalse();
  }

  @Test
  void workersSignEventsAndCacheRecordsThatTheCoordinatorAndOtherWorkersVerify(@TempDir Path dir) throws Exception {
    Role roles = Role.generate(dir);

    for (FarmKeys.Purpose purpose : List.of(FarmKeys.Purpose.EVENT, FarmKeys.Purpose.CACHE_RECORD)) {
      FarmKeys.Seal seal = roles.worker().seal(purpose, PAYLOAD);
      assertThat(roles.coordinator().verify(purpose, PAYLOAD, seal.keyId(), seal.mac())).isTrue();
      assertThat(roles.worker().verify(purpose, PAYLOAD, seal.keyId(), seal.mac())).isTrue();
      assertThat(roles.worker().verify(FarmKeys.Purpose.TASK, PAYLOAD, seal.keyId(), seal.mac())).isFalse();
      assertThatThrownBy(() -> roles.coordinator().seal(purpose, PAYLOAD)).isInstanceOf(IllegalStateException.class);
    }
    FarmKeys.Seal event = roles.worker().seal(FarmKeys.Purpose.EVENT, PAYLOAD);
    assertThat(roles.coordinator().verify(FarmKeys.Purpose.EVENT, "other".getBytes(StandardCharsets.UTF_8),
        event.keyId(), event.mac())).isFalse();
    assertThat(roles.coordinator().verify(FarmKeys.Purpose.CACHE_RECORD, PAYLOAD, event.keyId(), event.mac())).isFalse();
  }

  @Test
  void roleKeyFilesShareASealingKeyThatDerivesButSignsAndVerifiesNothing(@TempDir Path dir) throws Exception {
    Role roles = Role.generate(dir);
    byte[] build = "build-1".getBytes(StandardCharsets.UTF_8);

    FarmKeys.DerivedKey sealed = roles.coordinator().derive("secrets", build);
    assertThat(roles.worker().derive(sealed.keyId(), "secrets", build)).hasValueSatisfying(
        opened -> assertThat(opened.key()).isEqualTo(sealed.key()));
    assertThat(roles.worker().derive("secrets", "build-2".getBytes(StandardCharsets.UTF_8)).key())
        .isNotEqualTo(sealed.key());
    // the sealing key is no way around the roles: with it alone a worker still signs no task
    String sealingLine = Files.readAllLines(roles.workerFile()).stream()
        .filter(l -> l.startsWith("sealing ")).findFirst().orElseThrow();
    Path onlySealing = dir.resolve("only-sealing.key");
    Files.writeString(onlySealing, sealingLine + "\n");
    FarmKeys sealingOnly = FarmKeys.load(onlySealing);
    assertThatThrownBy(() -> sealingOnly.seal(FarmKeys.Purpose.TASK, PAYLOAD)).isInstanceOf(IllegalStateException.class);
    FarmKeys.Seal task = roles.coordinator().seal(FarmKeys.Purpose.TASK, PAYLOAD);
    assertThat(sealingOnly.verify(FarmKeys.Purpose.TASK, PAYLOAD, task.keyId(), task.mac())).isFalse();

    Path withoutSealing = dir.resolve("no-sealing.key");
    Files.writeString(withoutSealing, Files.readAllLines(roles.coordinatorFile()).stream()
        .filter(l -> !l.startsWith("sealing ")).reduce("", (a, b) -> a + b + "\n"));
    assertThatThrownBy(() -> FarmKeys.load(withoutSealing).derive("secrets", build))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("'sealing' line");
  }

  @Test
  void severalCoordinatorPublicKeysAreAcceptedForRotation(@TempDir Path dir) throws Exception {
    Role old = Role.generate(dir.resolve("old"));
    Role fresh = Role.generate(dir.resolve("new"));
    String oldPublic = Files.readAllLines(old.workerFile()).stream()
        .filter(l -> l.startsWith("coordinator-public ")).findFirst().orElseThrow();
    Files.writeString(fresh.workerFile(), oldPublic + "\n", java.nio.file.StandardOpenOption.APPEND);
    FarmKeys worker = FarmKeys.load(fresh.workerFile());

    for (FarmKeys coordinator : List.of(old.coordinator(), fresh.coordinator())) {
      FarmKeys.Seal task = coordinator.seal(FarmKeys.Purpose.TASK, PAYLOAD);
      assertThat(worker.verify(FarmKeys.Purpose.TASK, PAYLOAD, task.keyId(), task.mac())).isTrue();
    }
  }

  @Test
  void eachPartsRingIsCheckedForWhatItMustAndMustNotHold(@TempDir Path dir) throws Exception {
    Role roles = Role.generate(dir);
    roles.coordinator().requireFor(FarmKeys.Part.COORDINATOR);
    roles.worker().requireFor(FarmKeys.Part.WORKER);
    FarmKeys.generate().requireFor(FarmKeys.Part.WORKER).requireFor(FarmKeys.Part.COORDINATOR);

    assertThatThrownBy(() -> roles.worker().requireFor(FarmKeys.Part.COORDINATOR))
        .hasMessageContaining("no key that signs tasks");
    Path both = dir.resolve("both.key");
    Files.writeString(both, Files.readString(roles.workerFile()) + Files.readString(roles.coordinatorFile()));
    assertThatThrownBy(() -> FarmKeys.load(both).requireFor(FarmKeys.Part.WORKER))
        .hasMessageContaining("hold the coordinator's private key");
    Path noWorkerPublic = dir.resolve("partial.key");
    Files.writeString(noWorkerPublic, Files.readAllLines(roles.coordinatorFile()).stream()
        .filter(l -> !l.startsWith("worker-public")).map(l -> l + "\n").reduce("", String::concat));
    assertThatThrownBy(() -> FarmKeys.load(noWorkerPublic).requireFor(FarmKeys.Part.COORDINATOR))
        .hasMessageContaining("no key that verifies events");
  }

  @Test
  void aKeyFileNamesAnUnknownKindOrABadRoleKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("farm.key");
    Files.writeString(file, "coordinator-secret AAAA\n");
    assertThatThrownBy(() -> FarmKeys.load(file)).hasMessageContaining("line 1").hasMessageContaining("unknown kind");
    Files.writeString(file, "# one\nworker-public " + Base64.getEncoder().encodeToString(new byte[16]) + "\n");
    assertThatThrownBy(() -> FarmKeys.load(file)).hasMessageContaining("line 2").hasMessageContaining("32 bytes");
  }

  @Test
  void toStringNamesKeyIdsNeverKeyBytes(@TempDir Path dir) throws Exception {
    Role roles = Role.generate(dir);
    String text = roles.worker().toString();
    assertThat(text).contains("worker-private:", "coordinator-public:");
    for (String line : Files.readAllLines(roles.workerFile())) {
      if (!line.startsWith("#")) {
        assertThat(text).doesNotContain(line.split(" ")[1]);
      }
    }
  }

  /** Fresh role key files, written as an operator would get them, and the rings read back. */
  private record Role(Path coordinatorFile, Path workerFile, FarmKeys coordinator, FarmKeys worker) {
    static Role generate(Path dir) throws Exception {
      Files.createDirectories(dir);
      FarmKeys.RoleKeyFiles files = FarmKeys.generateRoleKeys();
      Path c = Files.writeString(dir.resolve("coordinator.key"), files.coordinator());
      Path w = Files.writeString(dir.resolve("worker.key"), files.worker());
      return new Role(c, w, FarmKeys.load(c), FarmKeys.load(w));
    }
  }

  @Test
  void roleSignaturesAreTheJdksEd25519SignaturesBothWays() throws Exception {
    byte[] seed = new byte[32];
    new java.security.SecureRandom().nextBytes(seed);
    FarmKey.RolePrivate own = FarmKey.RolePrivate.of(FarmKey.Role.COORDINATOR, seed);
    java.security.KeyPair jdk = FarmKey.Ed25519.fromSeed(seed);
    FarmKey.RolePublic verifier = FarmKey.RolePublic.of(FarmKey.Role.COORDINATOR, FarmKey.Ed25519.raw(jdk.getPublic()));
    byte[] payload = "a task".getBytes(StandardCharsets.UTF_8);

    java.security.Signature signer = java.security.Signature.getInstance("Ed25519");
    signer.initSign(jdk.getPrivate());
    signer.update(FarmKey.Ed25519.prefix(FarmKeys.Purpose.TASK));
    signer.update(payload);
    byte[] byJdk = signer.sign();
    byte[] byUs = own.sign(FarmKeys.Purpose.TASK, payload);

    assertThat(byUs).isEqualTo(byJdk); // Ed25519 is deterministic: same key, same message, same bytes
    assertThat(verifier.verify(FarmKeys.Purpose.TASK, payload, byJdk)).isTrue();
    java.security.Signature check = java.security.Signature.getInstance("Ed25519");
    check.initVerify(jdk.getPublic());
    check.update(FarmKey.Ed25519.prefix(FarmKeys.Purpose.TASK));
    check.update(payload);
    assertThat(check.verify(byUs)).isTrue();
    // another purpose, a flipped bit, a short signature: invalid, never an exception
    assertThat(verifier.verify(FarmKeys.Purpose.CONTROL, payload, byUs)).isFalse();
    byte[] flipped = byUs.clone();
    flipped[10] ^= 1;
    assertThat(verifier.verify(FarmKeys.Purpose.TASK, payload, flipped)).isFalse();
    assertThat(verifier.verify(FarmKeys.Purpose.TASK, payload, java.util.Arrays.copyOf(byUs, 63))).isFalse();
  }
}
