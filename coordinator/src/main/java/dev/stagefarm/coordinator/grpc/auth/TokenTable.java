package dev.stagefarm.coordinator.grpc.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SequencedSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's bearer tokens, read from a file that holds only their SHA-256 hashes (a copy of
 * the file does not let anyone call the API). One token a line:
 *
 * <pre>
 * # comment
 * sha256:&lt;64 hex digits: SHA-256 of the token's UTF-8 bytes&gt; &lt;identity&gt; &lt;client|admin&gt; [expires=&lt;instant|date&gt;] [revoked]
 * </pre>
 *
 * <p>A table loaded from a file re-reads it when it changes (its modification time, size or file
 * identity, checked at most once per {@code recheck}), so tokens are added, revoked and given
 * expiries without a restart. A changed file that does not parse is logged and the previous tokens
 * stay in force (a typo must not lock every client out). Tokens whose line disappears are
 * remembered as revoked, so their holders are told so. Format: docs/security.md, "Clients".
 */
public final class TokenTable {
  private static final Logger log = LoggerFactory.getLogger(TokenTable.class);
  /** How many tokens removed from the file are remembered as revoked (oldest forgotten first). */
  static final int MAX_REMEMBERED_REVOKED = 100_000;
  /** The largest tokens file read (about 100,000 lines). */
  static final long MAX_FILE_BYTES = 16 << 20;
  /** The default time between two looks at the tokens file. */
  public static final Duration DEFAULT_RECHECK = Duration.ofSeconds(1);

  private record Entry(byte[] hash, Caller caller, Optional<Instant> expires, boolean revoked) {}

  /** What a presented token is worth. */
  public sealed interface Verdict {
    record Valid(Caller caller) implements Verdict {}

    /** @param reason says why, for the client (never the token or its hash) */
    record Refused(String reason) implements Verdict {}
  }

  /** The file's stamp: a change of any part means the file was edited or replaced. */
  private record Stamp(Instant modified, long size, Object fileKey) {}

  private final Optional<Path> file;
  private final Clock clock;
  private final Duration recheck;
  private volatile List<Entry> entries;
  /** Hex hashes of tokens that were in the file and are no longer; guarded by this. */
  private final SequencedSet<String> removed = new LinkedHashSet<>();
  private Stamp stamp;
  private Instant lastCheck;

  private TokenTable(Optional<Path> file, List<Entry> entries, Clock clock, Duration recheck, Stamp stamp) {
    this.file = file;
    this.entries = List.copyOf(entries);
    this.clock = clock;
    this.recheck = recheck;
    this.stamp = stamp;
    this.lastCheck = clock.instant();
  }

  /** The tokens of {@code file}, re-read when it changes (checked at most once a second). */
  public static TokenTable load(Path file) throws IOException {
    return load(file, Clock.systemUTC(), DEFAULT_RECHECK);
  }

  /**
   * @param clock tells expiries and when to look at the file again
   * @param recheck the least time between two looks at the file
   */
  public static TokenTable load(Path file, Clock clock, Duration recheck) throws IOException {
    Stamp stamp = stamp(file);
    try {
      return new TokenTable(Optional.of(file), parseEntries(read(file)), clock, recheck, stamp);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** A fixed table (never re-read). @throws IllegalArgumentException naming the line that is not a token entry */
  public static TokenTable parse(String text) {
    return parse(text, Clock.systemUTC());
  }

  public static TokenTable parse(String text, Clock clock) {
    return new TokenTable(Optional.empty(), parseEntries(text), clock, Duration.ZERO, null);
  }

  private static List<Entry> parseEntries(String text) {
    List<Entry> entries = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("\\s+");
      String where = "line " + (i + 1);
      if (fields.length < 3 || fields.length > 5) {
        throw new IllegalArgumentException(where + ": want \"sha256:<hex> <identity> <client|admin>"
            + " [expires=<time>] [revoked]\", got " + fields.length + " field(s)");
      }
      if (!fields[0].matches("sha256:[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(where + ": the token hash must be sha256:<64 hex digits> (the SHA-256 of"
            + " the token, not the token itself)");
      }
      byte[] hash = HexFormat.of().parseHex(fields[0].substring("sha256:".length()).toLowerCase(Locale.ROOT));
      Caller.Role role = switch (fields[2]) {
        case "client" -> Caller.Role.CLIENT;
        case "admin" -> Caller.Role.ADMIN;
        default -> throw new IllegalArgumentException(where + ": role must be client or admin, not \"" + fields[2] + "\"");
      };
      Caller caller;
      try {
        caller = new Caller(fields[1], role);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
      Optional<Instant> expires = Optional.empty();
      boolean revoked = false;
      for (int f = 3; f < fields.length; f++) {
        if (fields[f].equals("revoked") && !revoked) {
          revoked = true;
        } else if (fields[f].startsWith("expires=") && expires.isEmpty()) {
          expires = Optional.of(instant(fields[f].substring("expires=".length()), where));
        } else {
          throw new IllegalArgumentException(where + ": \"" + fields[f] + "\" is neither expires=<time> nor revoked"
              + " (each at most once)");
        }
      }
      for (Entry entry : entries) {
        if (MessageDigest.isEqual(entry.hash(), hash)) {
          throw new IllegalArgumentException(where + ": the same token hash is listed twice");
        }
      }
      entries.add(new Entry(hash, caller, expires, revoked));
    }
    return entries;
  }

  /** An ISO-8601 instant ({@code 2027-01-31T12:00:00Z}) or a date ({@code 2027-01-31}: its start, UTC). */
  private static Instant instant(String text, String where) {
    try {
      return text.contains("T") ? Instant.parse(text) : LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(where + ": expires=\"" + text + "\" is not an ISO-8601 instant"
          + " (2027-01-31T12:00:00Z) or date (2027-01-31)");
    }
  }

  /**
   * What a presented token is worth now. Compares the token's hash with every entry in constant
   * time (no early exit), so response times do not tell how close a guess was.
   */
  public Verdict check(String token) {
    reloadIfChanged();
    byte[] hash = sha256(token);
    Entry found = null;
    for (Entry entry : entries) {
      if (MessageDigest.isEqual(entry.hash(), hash)) {
        found = entry;
      }
    }
    if (found == null) {
      boolean wasRemoved;
      synchronized (this) {
        wasRemoved = removed.contains(HexFormat.of().formatHex(hash));
      }
      return new Verdict.Refused(wasRemoved ? "the token has been revoked (removed from the coordinator's tokens file)"
          : "the token is not valid for this coordinator (unknown)");
    }
    if (found.revoked()) {
      return new Verdict.Refused("the token of \"" + found.caller().identity() + "\" has been revoked");
    }
    if (found.expires().isPresent() && !clock.instant().isBefore(found.expires().get())) {
      return new Verdict.Refused("the token of \"" + found.caller().identity() + "\" expired at "
          + found.expires().get());
    }
    return new Verdict.Valid(found.caller());
  }

  /** The caller a presented token stands for, if it is valid now. */
  public Optional<Caller> authenticate(String token) {
    return check(token) instanceof Verdict.Valid(Caller caller) ? Optional.of(caller) : Optional.empty();
  }

  public int size() {
    return entries.size();
  }

  private synchronized void reloadIfChanged() {
    if (file.isEmpty()) {
      return;
    }
    Instant now = clock.instant();
    if (now.isBefore(lastCheck.plus(recheck))) {
      return;
    }
    lastCheck = now;
    Path path = file.get();
    List<Entry> next;
    try {
      Stamp current = stamp(path);
      if (current.equals(stamp)) {
        return;
      }
      // the stamp before the read: an edit during the read is seen at the next look
      stamp = current;
      next = parseEntries(read(path));
    } catch (IOException | IllegalArgumentException e) {
      // reported once per edit, not on every call
      log.error("the tokens file {} changed but cannot be used, keeping its previous {} token(s): {}", path,
          entries.size(), e.getMessage());
      return;
    }
    List<String> nextHashes = next.stream().map(e -> HexFormat.of().formatHex(e.hash())).toList();
    for (Entry old : entries) {
      String hex = HexFormat.of().formatHex(old.hash());
      if (!nextHashes.contains(hex)) {
        removed.add(hex);
      }
    }
    nextHashes.forEach(removed::remove);
    while (removed.size() > MAX_REMEMBERED_REVOKED) {
      removed.removeFirst();
    }
    log.info("the tokens file {} changed: {} token(s), before {}", path, next.size(), entries.size());
    entries = List.copyOf(next);
  }

  private static String read(Path file) throws IOException {
    long size = Files.size(file);
    if (size > MAX_FILE_BYTES) {
      throw new IOException("the tokens file is " + size + " bytes, over the limit of " + MAX_FILE_BYTES);
    }
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private static Stamp stamp(Path file) throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
    return new Stamp(attributes.lastModifiedTime().toInstant(), attributes.size(), attributes.fileKey());
  }

  /** The line for a token file: {@code sha256:<hex> identity role}. */
  public static String entryLine(String token, Caller caller) {
    return "sha256:" + HexFormat.of().formatHex(sha256(token)) + " " + caller.identity() + " "
        + caller.role().name().toLowerCase(Locale.ROOT);
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
