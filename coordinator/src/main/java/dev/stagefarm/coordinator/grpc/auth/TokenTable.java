package dev.stagefarm.coordinator.grpc.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The coordinator's bearer tokens, read from a file that holds only their SHA-256 hashes (a copy of
 * the file does not let anyone call the API). One token a line:
 *
 * <pre>
 * # comment
 * sha256:&lt;64 hex digits: SHA-256 of the token's UTF-8 bytes&gt; &lt;identity&gt; &lt;client|admin&gt;
 * </pre>
 *
 * <p>Format and how to make tokens: docs/security.md, "Clients".
 */
public final class TokenTable {
  private record Entry(byte[] hash, Caller caller) {}

  private final List<Entry> entries;

  private TokenTable(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  public static TokenTable load(Path file) throws IOException {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** @throws IllegalArgumentException naming the line that is not a token entry */
  public static TokenTable parse(String text) {
    List<Entry> entries = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("\\s+");
      String where = "line " + (i + 1);
      if (fields.length != 3) {
        throw new IllegalArgumentException(where + ": want \"sha256:<hex> <identity> <client|admin>\", got "
            + fields.length + " field(s)");
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
      for (Entry entry : entries) {
        if (MessageDigest.isEqual(entry.hash(), hash)) {
          throw new IllegalArgumentException(where + ": the same token hash is listed twice");
        }
      }
      entries.add(new Entry(hash, caller));
    }
    return new TokenTable(entries);
  }

  /**
   * The caller a presented token stands for. Compares the token's hash with every entry in
   * constant time (no early exit), so response times do not tell how close a guess was.
   */
  public Optional<Caller> authenticate(String token) {
    byte[] hash = sha256(token);
    Caller found = null;
    for (Entry entry : entries) {
      if (MessageDigest.isEqual(entry.hash(), hash)) {
        found = entry.caller();
      }
    }
    return Optional.ofNullable(found);
  }

  public int size() {
    return entries.size();
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
