package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * libsodium's and BouncyCastle's Ed25519 give the same signatures and accept the same ones: RFC 8032
 * vectors, random keys and messages against the JDK's Ed25519, and the hostile cases a forger or a
 * malleating relay would try. libsodium must be installed (apt libsodium23; scripts/env.sh and
 * scripts/test install it): without it this test fails rather than skip, so the fast path is tested.
 */
class Ed25519EnginesTest {
  private static final HexFormat HEX = HexFormat.of();
  /** The order of the prime subgroup, L = 2^252 + 27742317777372353535851937790883648493. */
  private static final BigInteger L = BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));

  private static SodiumEd25519 sodium;
  private static final BouncyCastleEd25519 bc = BouncyCastleEd25519.INSTANCE;

  @BeforeAll
  static void loadLibsodium() {
    sodium = SodiumEd25519.load(); // throws, naming the library, when libsodium is absent
  }

  /** RFC 8032 section 7.1, TESTs 1 to 3: seed, public key, message, signature. */
  private static final List<String[]> RFC8032 = List.of(
      new String[] {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
          "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
          "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      new String[] {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
          "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
          "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
      new String[] {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
          "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
          "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"});

  @Test
  void bothEnginesGiveRfc8032sSignaturesAndAcceptThem() {
    for (String[] vector : RFC8032) {
      byte[] seed = HEX.parseHex(vector[0]);
      byte[] publicKey = HEX.parseHex(vector[1]);
      byte[] message = HEX.parseHex(vector[2]);
      byte[] expected = HEX.parseHex(vector[3]);
      assertThat(FarmKey.Ed25519.raw(FarmKey.Ed25519.fromSeed(seed).getPublic())).isEqualTo(publicKey);
      for (Ed25519Engine engine : List.<Ed25519Engine>of(sodium, bc)) {
        assertThat(engine.signer(seed, publicKey).sign(message)).as(engine.name() + " " + vector[2]).isEqualTo(expected);
        assertThat(engine.verifier(publicKey).verify(message, expected)).as(engine.name()).isTrue();
      }
    }
    assertThat(Ed25519Engines.KnownAnswer.passes(sodium)).isTrue();
    assertThat(Ed25519Engines.KnownAnswer.passes(bc)).isTrue();
  }

  @Test
  void eachEnginesSignatureIsTheJdksAndTheOtherAcceptsIt() throws Exception {
    SecureRandom random = new SecureRandom();
    for (int i = 0; i < 50; i++) {
      byte[] seed = new byte[32];
      random.nextBytes(seed);
      KeyPair jdk = FarmKey.Ed25519.fromSeed(seed);
      byte[] publicKey = FarmKey.Ed25519.raw(jdk.getPublic());
      byte[] message = new byte[random.nextInt(600)];
      random.nextBytes(message);

      java.security.Signature signature = java.security.Signature.getInstance("Ed25519");
      signature.initSign(jdk.getPrivate());
      signature.update(message);
      byte[] byJdk = signature.sign();
      byte[] bySodium = sodium.signer(seed, publicKey).sign(message);
      byte[] byBc = bc.signer(seed, publicKey).sign(message);

      assertThat(bySodium).isEqualTo(byJdk).isEqualTo(byBc);
      assertThat(sodium.verifier(publicKey).verify(message, byBc)).isTrue();
      assertThat(bc.verifier(publicKey).verify(message, bySodium)).isTrue();
    }
  }

  @Test
  void bothEnginesRejectEveryHostileSignature() {
    byte[] seed = HEX.parseHex(RFC8032.get(2)[0]);
    byte[] publicKey = HEX.parseHex(RFC8032.get(2)[1]);
    byte[] message = "stagefarm-sig/v1\ntask\na task".getBytes(StandardCharsets.US_ASCII);
    byte[] good = bc.signer(seed, publicKey).sign(message);
    byte[] otherKey = HEX.parseHex(RFC8032.get(0)[1]);

    Map<String, byte[]> hostile = new LinkedHashMap<>();
    hostile.put("a bit of R flipped", flip(good, 3));
    hostile.put("a bit of S flipped", flip(good, 40));
    hostile.put("truncated to 63 bytes", Arrays.copyOf(good, 63));
    hostile.put("one byte too many", Arrays.copyOf(good, 65));
    hostile.put("empty", new byte[0]);
    hostile.put("null", null);
    hostile.put("all zeros", new byte[64]);
    // the same signature with S + L: the same point equation, a malleated encoding (RFC 8032 5.1.7 requires S < L)
    hostile.put("non-canonical S (S + L)", withS(good, littleEndian(good, 32).add(L)));
    // R the neutral element and S = 0: a check that multiplies by the cofactor, or skips R's order, might pass it
    byte[] neutralR = new byte[64];
    neutralR[0] = 1;
    hostile.put("small-order R (neutral), S = 0", neutralR);
    // R's y encoded as y + p (non-canonical), here p + 1 = the neutral element's y again
    byte[] nonCanonicalR = Arrays.copyOf(good, 64);
    byte[] pPlusOne = littleEndian32(BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19)).add(BigInteger.ONE));
    System.arraycopy(pPlusOne, 0, nonCanonicalR, 0, 32);
    hostile.put("non-canonical R (y = p + 1)", nonCanonicalR);

    List<String> accepted = new ArrayList<>();
    for (Map.Entry<String, byte[]> attack : hostile.entrySet()) {
      for (Ed25519Engine engine : List.<Ed25519Engine>of(sodium, bc)) {
        if (engine.verifier(publicKey).verify(message, attack.getValue())) {
          accepted.add(engine.name() + ": " + attack.getKey());
        }
      }
    }
    for (Ed25519Engine engine : List.<Ed25519Engine>of(sodium, bc)) {
      if (engine.verifier(otherKey).verify(message, good)) {
        accepted.add(engine.name() + ": another key's signature");
      }
      if (engine.verifier(publicKey).verify(flip(message, 5), good)) {
        accepted.add(engine.name() + ": another message");
      }
      assertThat(engine.verifier(publicKey).verify(message, good)).as(engine.name()).isTrue();
    }
    assertThat(accepted).isEmpty();
  }

  @Test
  void aSmallOrderPublicKeyVerifiesNothingWhateverTheEngine() {
    byte[] neutral = new byte[32];
    neutral[0] = 1; // the neutral element: with R = neutral and S = 0, [S]B = R + [k]A holds for every message
    byte[] forged = new byte[64];
    forged[0] = 1;
    assertThat(Ed25519Engines.validPublicKey(neutral)).isFalse();
    assertThat(sodium.verifier(neutral).verify("anything".getBytes(StandardCharsets.US_ASCII), forged)).isFalse();
    FarmKey.RolePublic key = FarmKey.RolePublic.of(FarmKey.Role.COORDINATOR, neutral);
    assertThat(key.verify(FarmKeys.Purpose.TASK, "anything".getBytes(StandardCharsets.US_ASCII), forged)).isFalse();
  }

  @Test
  void theProcessUsesLibsodiumHereAndBouncyCastleWhenAskedOrWhenItIsMissing() {
    assertThat(Ed25519Engines.chosen()).isInstanceOf(SodiumEd25519.class);
    assertThat(Ed25519Engines.choose("bouncycastle")).isSameAs(bc);
    assertThat(Ed25519Engines.choose("auto")).isInstanceOf(SodiumEd25519.class);
  }

  private static byte[] flip(byte[] bytes, int index) {
    byte[] copy = bytes.clone();
    copy[index] ^= 1;
    return copy;
  }

  private static BigInteger littleEndian(byte[] bytes, int from) {
    byte[] bigEndian = new byte[32];
    for (int i = 0; i < 32; i++) {
      bigEndian[31 - i] = bytes[from + i];
    }
    return new BigInteger(1, bigEndian);
  }

  private static byte[] littleEndian32(BigInteger value) {
    byte[] bigEndian = value.toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < 32 && i < bigEndian.length; i++) {
      out[i] = bigEndian[bigEndian.length - 1 - i];
    }
    return out;
  }

  private static byte[] withS(byte[] signature, BigInteger s) {
    byte[] copy = Arrays.copyOf(signature, 64);
    System.arraycopy(littleEndian32(s), 0, copy, 32, 32);
    return copy;
  }
}
