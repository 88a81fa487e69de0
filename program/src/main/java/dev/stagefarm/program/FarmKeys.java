package dev.stagefarm.program;

import dev.stagefarm.program.FarmKey.Ed25519;
import dev.stagefarm.program.FarmKey.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys with which the farm's parts authenticate what they write for each other (tasks, events,
 * cache records), so a message or record that anyone else wrote is ignored. See docs/protocol.md,
 * "Farm authentication", and docs/security.md, "Farm parts".
 *
 * <p>Two kinds of key, in one ring:
 * <ul>
 *   <li><b>role keys</b> (Ed25519): the coordinator signs tasks with a private key only it holds,
 *       the workers sign events and cache records with theirs; each part holds the other's public
 *       key only, so a worker cannot make a task another worker would run;
 *   <li>a <b>shared key</b> (HMAC-SHA256): every holder is every farm part. What farms used before
 *       role keys, and what the embedded farm (one process) uses.
 * </ul>
 *
 * <p>A key ring for rotation: for each purpose the first key that may sign it signs, every key that
 * may verify it verifies. A signature names its key by an id derived from the key (no
 * configuration), so a reader picks the key without trying them all.
 */
public final class FarmKeys {
  /** Shortest shared key accepted: 256 bits, HMAC-SHA256's block of security. */
  public static final int MIN_KEY_BYTES = 32;
  /** Kafka record header with the MAC or signature (raw bytes). */
  public static final String MAC_HEADER = "stagefarm-mac";
  /** Kafka record header with the id of the key that made the MAC or signature (UTF-8). */
  public static final String KEY_ID_HEADER = "stagefarm-key-id";

  /** What a MAC or signature authenticates; part of the signed input. */
  public enum Purpose {
    TASK("task"), EVENT("event"), CACHE_RECORD("cache-record");

    private final String label;

    Purpose(String label) {
      this.label = label;
    }

    String label() {
      return label;
    }
  }

  /** The farm part that holds a ring: what it must be able to sign and verify, and must not sign. */
  public enum Part {
    COORDINATOR, WORKER
  }

  /** A MAC or signature and the id of the key that made it. */
  public record Seal(String keyId, byte[] mac) {}

  /** The key files of a farm with role keys: one for the coordinator, one for every worker. */
  public record RoleKeyFiles(String coordinator, String worker) {}

  private final List<FarmKey> keys;

  private FarmKeys(List<FarmKey> keys) {
    this.keys = List.copyOf(keys);
  }

  /**
   * A ring of shared keys.
   *
   * @param secrets the keys, the signing one first; each at least {@link #MIN_KEY_BYTES} bytes
   * @throws IllegalArgumentException for no key or a short one
   */
  public static FarmKeys of(List<byte[]> secrets) {
    if (secrets.isEmpty()) {
      throw new IllegalArgumentException("a farm key ring needs at least one key");
    }
    List<FarmKey> keys = new ArrayList<>();
    for (byte[] secret : secrets) {
      keys.add(sharedKey(secret));
    }
    return new FarmKeys(keys);
  }

  /** One fresh random shared key (tests, an embedded farm's first start). */
  public static FarmKeys generate() {
    return of(List.of(newSecret()));
  }

  /**
   * Fresh role keys: the coordinator's file holds its private key and the workers' public key, the
   * workers' file the workers' private key and the coordinator's public key (docs/security.md).
   */
  public static RoleKeyFiles generateRoleKeys() {
    KeyPair coordinator = Ed25519.generate();
    KeyPair worker = Ed25519.generate();
    byte[] sealing = newSecret(); // both files: the coordinator seals build secrets, workers open them
    String header = "# stagefarm %s keys (docs/security.md, \"Farm parts\"): keep this file on the %s only\n";
    return new RoleKeyFiles(
        header.formatted("coordinator", "coordinator")
            + line("coordinator-private", Ed25519.seed(coordinator.getPrivate()))
            + line("worker-public", Ed25519.raw(worker.getPublic()))
            + line("sealing", sealing),
        header.formatted("worker", "workers")
            + line("worker-private", Ed25519.seed(worker.getPrivate()))
            + line("coordinator-public", Ed25519.raw(coordinator.getPublic()))
            + line("sealing", sealing));
  }

  /**
   * Reads a key file: one key per line, {@code KIND BASE64}, or a bare {@code BASE64} for a shared
   * key; blank lines and lines starting with {@code #} are ignored. Kinds: {@code shared} (at least
   * 32 random bytes, {@code openssl rand -base64 32}), {@code coordinator-private}, {@code
   * coordinator-public}, {@code worker-private}, {@code worker-public} (raw 32-byte Ed25519 keys).
   * A private key also verifies its own signatures.
   *
   * @throws IllegalArgumentException naming the file and the line that is not a usable key
   */
  public static FarmKeys load(Path file) throws IOException {
    List<FarmKey> keys = new ArrayList<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        keys.addAll(parse(line));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("farm key file " + file + " line " + (i + 1) + ": not a usable key ("
            + e.getMessage() + ")", e);
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("farm key file " + file + " holds no key");
    }
    return new FarmKeys(keys);
  }

  private static List<FarmKey> parse(String line) {
    String[] fields = line.split("\\s+");
    if (fields.length > 2) {
      throw new IllegalArgumentException("want KIND BASE64 or BASE64, got " + fields.length + " fields");
    }
    String kind = fields.length == 1 ? "shared" : fields[0].toLowerCase(Locale.ROOT);
    byte[] bytes = Base64.getDecoder().decode(fields[fields.length - 1]);
    return switch (kind) {
      case "shared" -> List.of(sharedKey(bytes));
      case "coordinator-private" -> rolePrivate(Role.COORDINATOR, bytes);
      case "worker-private" -> rolePrivate(Role.WORKER, bytes);
      case "coordinator-public" -> List.of(FarmKey.RolePublic.of(Role.COORDINATOR, bytes));
      case "worker-public" -> List.of(FarmKey.RolePublic.of(Role.WORKER, bytes));
      case "sealing" -> List.of(sealingKey(bytes));
      default -> throw new IllegalArgumentException("unknown kind '" + fields[0] + "': shared, coordinator-private,"
          + " coordinator-public, worker-private, worker-public or sealing");
    };
  }

  private static List<FarmKey> rolePrivate(Role role, byte[] seed) {
    FarmKey.RolePrivate signing = FarmKey.RolePrivate.of(role, seed);
    return List.of(signing, FarmKey.RolePublic.of(role, Ed25519.raw(Ed25519.fromSeed(seed).getPublic())));
  }

  private static FarmKey sealingKey(byte[] secret) {
    if (secret.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException("a sealing key must have at least " + MIN_KEY_BYTES + " bytes, one has "
          + secret.length);
    }
    return FarmKey.Sealing.of(secret);
  }

  private static FarmKey sharedKey(byte[] secret) {
    if (secret.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException("a farm key must have at least " + MIN_KEY_BYTES + " bytes, one has "
          + secret.length);
    }
    return FarmKey.Shared.of(secret);
  }

  /**
   * The key file at {@code file}, created with one new random shared key (owner-only permissions)
   * when it does not exist yet: what an embedded farm uses, one key per farm home. Its parts run
   * in one process, so role keys would separate nothing.
   */
  public static FarmKeys loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      writeOwnerOnly(file, "# stagefarm farm key: coordinator and workers only (docs/security.md)\n"
          + Base64.getEncoder().encodeToString(newSecret()) + "\n");
    }
    return load(file);
  }

  /**
   * Creates {@code file} with owner-only permissions and {@code content}; an existing file is kept
   * (another process of the same farm home created it first: use theirs).
   */
  public static void writeOwnerOnly(Path file, String content) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, content);
    } catch (FileAlreadyExistsException raced) {
      // keep the existing file
    }
  }

  /**
   * Checks that this ring fits {@code part}: it can sign what the part writes and verify what it
   * reads, and holds no key that signs what only the other part may write (a worker holding the
   * coordinator's private key could make tasks).
   *
   * @throws IllegalArgumentException naming what is missing or misplaced
   */
  public FarmKeys requireFor(Part part) {
    List<Purpose> writes = part == Part.COORDINATOR ? List.of(Purpose.TASK) : List.of(Purpose.EVENT, Purpose.CACHE_RECORD);
    List<Purpose> reads = part == Part.COORDINATOR
        ? List.of(Purpose.EVENT, Purpose.CACHE_RECORD) : List.of(Purpose.TASK, Purpose.CACHE_RECORD);
    Role other = part == Part.COORDINATOR ? Role.WORKER : Role.COORDINATOR;
    String who = part.name().toLowerCase(Locale.ROOT);
    for (Purpose purpose : writes) {
      if (keys.stream().noneMatch(k -> k.signs(purpose))) {
        throw new IllegalArgumentException("the " + who + "'s farm keys hold no key that signs " + purpose.label()
            + "s (a " + who + "-private or shared key)");
      }
    }
    for (Purpose purpose : reads) {
      if (keys.stream().noneMatch(k -> k.verifies(purpose))) {
        throw new IllegalArgumentException("the " + who + "'s farm keys hold no key that verifies " + purpose.label()
            + "s (a " + (purpose == Purpose.TASK ? "coordinator" : "worker") + "-public or shared key)");
      }
    }
    if (keys.stream().anyMatch(k -> k instanceof FarmKey.RolePrivate p && p.role() == other)) {
      throw new IllegalArgumentException("the " + who + "'s farm keys hold the " + other.name().toLowerCase(Locale.ROOT)
          + "'s private key: only the " + other.name().toLowerCase(Locale.ROOT) + " may hold it");
    }
    return this;
  }

  /**
   * The MAC or signature of {@code payload} for {@code purpose}, with the first key that may sign it.
   *
   * @throws IllegalStateException when this ring holds no such key (a part writing what it may not)
   */
  public Seal seal(Purpose purpose, byte[] payload) {
    FarmKey key = keys.stream().filter(k -> k.signs(purpose)).findFirst()
        .orElseThrow(() -> new IllegalStateException("these farm keys hold no key that signs " + purpose.label() + "s"));
    return new Seal(key.id(), key.sign(purpose, payload));
  }

  /**
   * Whether {@code mac} authenticates {@code payload} for {@code purpose} under the key {@code keyId}
   * of this ring, and that key may vouch for that purpose (a worker's key never for a task).
   */
  public boolean verify(Purpose purpose, byte[] payload, String keyId, byte[] mac) {
    Optional<FarmKey> key = keys.stream().filter(k -> k.id().equals(keyId) && k.verifies(purpose)).findFirst();
    return key.isPresent() && mac != null && payload != null && key.get().verify(purpose, payload, mac);
  }

  /**
   * The MAC of {@code payload} as Kafka record headers, name to value: {@link #KEY_ID_HEADER}
   * (UTF-8) and {@link #MAC_HEADER} (raw bytes). Here rather than in each Kafka adapter, so the
   * coordinator's and the workers' records cannot disagree.
   */
  public Map<String, byte[]> headers(Purpose purpose, byte[] payload) {
    Seal seal = seal(purpose, payload);
    Map<String, byte[]> headers = new LinkedHashMap<>();
    headers.put(KEY_ID_HEADER, seal.keyId().getBytes(StandardCharsets.UTF_8));
    headers.put(MAC_HEADER, seal.mac());
    return headers;
  }

  /** Whether the headers that {@code header} looks up (null: absent) carry a valid MAC of {@code payload}. */
  public boolean verifyHeaders(Purpose purpose, byte[] payload, Function<String, byte[]> header) {
    byte[] keyId = header.apply(KEY_ID_HEADER);
    return keyId != null && payload != null
        && verify(purpose, payload, new String(keyId, StandardCharsets.UTF_8), header.apply(MAC_HEADER));
  }

  /** A key derived from one key of the ring, and that key's id. */
  public record DerivedKey(String keyId, byte[] key) {
    @Override
    public String toString() {
      return "DerivedKey[" + keyId + "]"; // never the key bytes
    }
  }

  /**
   * A 256-bit key for {@code label} and {@code info} (e.g. one build's secrets), derived with
   * HKDF-SHA256 (RFC 5869; salt = the label) from the ring's first sealing key, or else its first
   * shared key: the farm key itself never encrypts, and a key derived for one build opens nothing of
   * another.
   *
   * @throws IllegalStateException when the ring holds neither (a role-key file without a {@code
   *     sealing} line)
   */
  public DerivedKey derive(String label, byte[] info) {
    FarmKey key = derivingKeys().findFirst().orElseThrow(() -> new IllegalStateException(
        "the farm keys hold no key to seal build secrets with: add the 'sealing' line that stagefarm admin"
            + " farm-keys writes to both the coordinator's and the workers' key files (docs/security.md)"));
    return new DerivedKey(key.id(), hkdf(key, label, info));
  }

  /** The same derivation from the key {@code keyId} of this ring (one that was rotated out of first place). */
  public Optional<DerivedKey> derive(String keyId, String label, byte[] info) {
    return derivingKeys().filter(k -> k.id().equals(keyId)).findFirst()
        .map(k -> new DerivedKey(k.id(), hkdf(k, label, info)));
  }

  /** Sealing keys first: in a ring that has one, a shared key (kept for rotation) does not seal. */
  private java.util.stream.Stream<FarmKey> derivingKeys() {
    return java.util.stream.Stream.concat(
        keys.stream().filter(k -> k instanceof FarmKey.Sealing), keys.stream().filter(k -> k instanceof FarmKey.Shared));
  }

  private static byte[] hkdf(FarmKey key, String label, byte[] info) {
    byte[] secret = switch (key) {
      case FarmKey.Sealing k -> k.spec().getEncoded();
      case FarmKey.Shared k -> k.spec().getEncoded();
      default -> throw new IllegalArgumentException("only sealing and shared keys derive");
    };
    return hkdfSha256(label.getBytes(StandardCharsets.UTF_8), secret, info);
  }

  /** HKDF-SHA256 (RFC 5869): extract with {@code salt}, then expand one block (32 bytes) for {@code info}. */
  static byte[] hkdfSha256(byte[] salt, byte[] inputKey, byte[] info) {
    try {
      Mac extract = Mac.getInstance("HmacSHA256");
      // an empty salt is HashLen zero bytes (RFC 5869 2.2); the JDK refuses an empty key
      extract.init(new SecretKeySpec(salt.length == 0 ? new byte[32] : salt, "HmacSHA256"));
      byte[] prk = extract.doFinal(inputKey);
      Mac expand = Mac.getInstance("HmacSHA256");
      expand.init(new SecretKeySpec(prk, "HmacSHA256"));
      expand.update(info);
      expand.update((byte) 1);
      return expand.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available in this JDK", e);
    }
  }

  /** The id of the first key (logs, metrics): the signing key of a shared-key ring. */
  public String signingKeyId() {
    return keys.get(0).id();
  }

  private static String line(String kind, byte[] key) {
    return kind + " " + Base64.getEncoder().encodeToString(key) + "\n";
  }

  private static byte[] newSecret() {
    byte[] secret = new byte[MIN_KEY_BYTES];
    new SecureRandom().nextBytes(secret);
    return secret;
  }

  @Override
  public String toString() {
    // ids and kinds only, never key bytes
    return "FarmKeys" + keys.stream().map(k -> switch (k) {
      case FarmKey.Shared s -> "shared:" + s.id();
      case FarmKey.RolePrivate p -> p.role().name().toLowerCase(Locale.ROOT) + "-private:" + p.id();
      case FarmKey.RolePublic p -> p.role().name().toLowerCase(Locale.ROOT) + "-public:" + p.id();
      case FarmKey.Sealing z -> "sealing:" + z.id();
    }).toList();
  }
}
