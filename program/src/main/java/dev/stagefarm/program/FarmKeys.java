package dev.stagefarm.program;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The farm's shared secret: keys only the coordinator and the workers hold, with which they MAC
 * what they write for each other (tasks, events, cache records), so a message or record that
 * anyone else wrote is ignored. See docs/protocol.md, "Farm authentication".
 *
 * <p>A key ring for rotation: the first key signs, every key verifies. A MAC names its key by an id
 * derived from the key (no configuration), so a reader picks the key without trying them all.
 *
 * <p>The MAC is HMAC-SHA256 over {@code "stagefarm-mac/v1" LF purpose LF payload}: the purpose
 * keeps a signed event from being replayed as a task or a cache record.
 */
public final class FarmKeys {
  /** Shortest key accepted: 256 bits, HMAC-SHA256's block of security. */
  public static final int MIN_KEY_BYTES = 32;
  /** Kafka record header with the MAC (raw 32 bytes). */
  public static final String MAC_HEADER = "stagefarm-mac";
  /** Kafka record header with the id of the key that made the MAC (UTF-8). */
  public static final String KEY_ID_HEADER = "stagefarm-key-id";
  private static final String ALGORITHM = "HmacSHA256";

  /** What a MAC authenticates; part of the MAC input. */
  public enum Purpose {
    TASK("task"), EVENT("event"), CACHE_RECORD("cache-record"), CONTROL("control");

    private final String label;

    Purpose(String label) {
      this.label = label;
    }
  }

  /** A MAC and the id of the key that made it. */
  public record Seal(String keyId, byte[] mac) {}

  private record Key(String id, SecretKeySpec spec) {}

  private final List<Key> keys;

  private FarmKeys(List<Key> keys) {
    this.keys = List.copyOf(keys);
  }

  /**
   * @param secrets the keys, the signing one first; each at least {@link #MIN_KEY_BYTES} bytes
   * @throws IllegalArgumentException for no key or a short one
   */
  public static FarmKeys of(List<byte[]> secrets) {
    if (secrets.isEmpty()) {
      throw new IllegalArgumentException("a farm key ring needs at least one key");
    }
    List<Key> keys = new ArrayList<>();
    for (byte[] secret : secrets) {
      if (secret.length < MIN_KEY_BYTES) {
        throw new IllegalArgumentException("a farm key must have at least " + MIN_KEY_BYTES + " bytes, one has "
            + secret.length);
      }
      keys.add(new Key(keyId(secret), new SecretKeySpec(secret.clone(), ALGORITHM)));
    }
    return new FarmKeys(keys);
  }

  /** One fresh random key (tests, a farm's first start). */
  public static FarmKeys generate() {
    return of(List.of(newSecret()));
  }

  /**
   * Reads a key file: one key per line, base64 of at least 32 random bytes ({@code openssl rand
   * -base64 32}); the first line signs, the others only verify; blank lines and lines starting
   * with {@code #} are ignored.
   *
   * @throws IllegalArgumentException naming the file and the line that is not a usable key
   */
  public static FarmKeys load(Path file) throws IOException {
    List<byte[]> secrets = new ArrayList<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        byte[] secret = Base64.getDecoder().decode(line);
        if (secret.length < MIN_KEY_BYTES) {
          throw new IllegalArgumentException(secret.length + " bytes, at least " + MIN_KEY_BYTES + " needed");
        }
        secrets.add(secret);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("farm key file " + file + " line " + (i + 1) + ": not a usable key ("
            + e.getMessage() + ")", e);
      }
    }
    if (secrets.isEmpty()) {
      throw new IllegalArgumentException("farm key file " + file + " holds no key");
    }
    return of(secrets);
  }

  /**
   * The key file at {@code file}, created with one new random key (owner-only permissions) when it
   * does not exist yet: what an embedded farm uses, one key per farm home.
   */
  public static FarmKeys loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      Files.createDirectories(file.toAbsolutePath().getParent());
      String content = "# stagefarm farm key: coordinator and workers only (docs/security.md)\n"
          + Base64.getEncoder().encodeToString(newSecret()) + "\n";
      try {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, content);
      } catch (FileAlreadyExistsException raced) {
        // another process of the same farm home created it first: use theirs
      }
    }
    return load(file);
  }

  /** The MAC of {@code payload} for {@code purpose}, with the signing (first) key. */
  public Seal seal(Purpose purpose, byte[] payload) {
    Key key = keys.get(0);
    return new Seal(key.id(), mac(key, purpose, payload));
  }

  /** Whether {@code mac} is the MAC of {@code payload} for {@code purpose} under the key {@code keyId} of this ring. */
  public boolean verify(Purpose purpose, byte[] payload, String keyId, byte[] mac) {
    Optional<Key> key = keys.stream().filter(k -> k.id().equals(keyId)).findFirst();
    // constant-time comparison: a timing side channel must not reveal a valid MAC byte by byte
    return key.isPresent() && mac != null && MessageDigest.isEqual(mac(key.get(), purpose, payload), mac);
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

  /** The id of the signing key (logs, metrics). */
  public String signingKeyId() {
    return keys.get(0).id();
  }

  private static byte[] mac(Key key, Purpose purpose, byte[] payload) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key.spec());
      mac.update(("stagefarm-mac/v1\n" + purpose.label + "\n").getBytes(StandardCharsets.US_ASCII));
      return mac.doFinal(payload);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available in this JDK", e);
    }
  }

  /** 12 hex digits of a hash of the key: names it in MACs and logs without revealing it. */
  private static String keyId(byte[] secret) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update("stagefarm-key-id/v1\n".getBytes(StandardCharsets.US_ASCII));
      byte[] hash = sha.digest(secret);
      return HexFormat.of().formatHex(hash, 0, 6);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available in this JDK", e);
    }
  }

  private static byte[] newSecret() {
    byte[] secret = new byte[MIN_KEY_BYTES];
    new SecureRandom().nextBytes(secret);
    return secret;
  }

  @Override
  public String toString() {
    return "FarmKeys" + keys.stream().map(Key::id).toList(); // ids only, never key bytes
  }
}
