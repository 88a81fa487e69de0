package dev.stagefarm.dockerfile.instructions;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code RUN --mount=...} (BuildKit's {@code instructions.Mount}), parsed from its CSV form
 * {@code type=cache,target=/root/.cache,sharing=locked}.
 *
 * @param type bind (default), cache, tmpfs, secret or ssh
 * @param from the stage or image the mount's source comes from; empty: the build context (bind),
 *     an empty directory (cache)
 * @param source path inside {@code from} (bind, cache) or the secret/ssh id source; empty if unset
 * @param target mount point in the container; empty if unset
 * @param readOnly whether mounted read-only (default: read-only for bind, secret, ssh)
 * @param sizeLimit tmpfs size in bytes, 0 for no limit
 * @param id cache id, secret id or ssh id; empty if unset
 * @param sharing cache sharing mode, or null when not written (BuildKit's default: shared)
 * @param required for secret and ssh: fail when the secret is not provided
 * @param mode file mode of the mount root (cache, secret, ssh), or null
 * @param uid owner uid (cache, secret, ssh), or null
 * @param gid owner gid (cache, secret, ssh), or null
 * @param env for secret: the environment variable to expose the secret in, or null
 */
public record RunMount(
    MountType type,
    String from,
    String source,
    String target,
    boolean readOnly,
    long sizeLimit,
    String id,
    CacheSharing sharing,
    boolean required,
    Integer mode,
    Long uid,
    Long gid,
    String env) {

  private static final Pattern RAM_SIZE =
      Pattern.compile("^(\\d+(?:\\.\\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$");
  private static final Pattern VARIABLE = Pattern.compile("\\$.");

  /**
   * Parses one {@code --mount} value, expanding each option value with {@code expand} (BuildKit
   * expands them with the stage's environment when the RUN executes).
   *
   * @throws IllegalArgumentException with BuildKit's message for an invalid mount
   */
  static RunMount parse(String spec, UnaryOperator<String> expand) {
    Builder m = new Builder();
    boolean readOnlyAuto = true;
    for (String field : csvFields(spec)) {
      int eq = field.indexOf('=');
      String key = (eq < 0 ? field : field.substring(0, eq)).toLowerCase(Locale.ROOT);
      if (eq < 0) {
        switch (key) {
          case "readonly", "ro" -> {
            m.readOnly = true;
            readOnlyAuto = false;
          }
          case "readwrite", "rw" -> {
            m.readOnly = false;
            readOnlyAuto = false;
          }
          case "required" -> {
            if (m.type != MountType.SECRET && m.type != MountType.SSH) {
              throw unexpectedKey(key, m.type);
            }
            m.required = true;
          }
          default ->
              throw new IllegalArgumentException(
                  "invalid field '" + field + "' must be a key=value pair");
        }
        continue;
      }
      String raw = field.substring(eq + 1);
      if (key.equals("from") && VARIABLE.matcher(raw).find()) {
        throw new IllegalArgumentException(
            "'from' doesn't support variable expansion, define alias stage instead");
      }
      String value = expand.apply(raw);
      switch (key) {
        case "type" -> m.type = mountType(value);
        case "from" -> m.from = value;
        case "source", "src" -> m.source = value;
        case "target", "dst", "destination" -> m.target = value;
        case "readonly", "ro" -> {
          m.readOnly = parseBool(key, value);
          readOnlyAuto = false;
        }
        case "readwrite", "rw" -> {
          m.readOnly = !parseBool(key, value);
          readOnlyAuto = false;
        }
        case "required" -> {
          if (m.type != MountType.SECRET && m.type != MountType.SSH) {
            throw unexpectedKey(key, m.type);
          }
          m.required = parseBool(key, value);
        }
        case "size" -> {
          if (m.type != MountType.TMPFS) {
            throw unexpectedKey(key, m.type);
          }
          m.sizeLimit = ramInBytes(value);
        }
        case "id" -> m.id = value;
        case "sharing" -> m.sharing = sharing(value);
        case "mode" -> m.mode = (int) parseUnsigned(value, 8, "mode");
        case "uid" -> m.uid = parseUnsigned(value, 10, "uid");
        case "gid" -> m.gid = parseUnsigned(value, 10, "gid");
        case "env" -> m.env = value;
        default ->
            throw new IllegalArgumentException(
                "unexpected key '" + key + "' in '" + field + "'");
      }
    }
    return m.validate(readOnlyAuto);
  }

  private static IllegalArgumentException unexpectedKey(String key, MountType type) {
    return new IllegalArgumentException(
        "unexpected key '" + key + "' for mount type '" + type.value() + "'");
  }

  private static MountType mountType(String value) {
    for (MountType t : MountType.values()) {
      if (t.value().equals(value.toLowerCase(Locale.ROOT))) {
        return t;
      }
    }
    throw new IllegalArgumentException("unsupported mount type \"" + value + "\"");
  }

  private static CacheSharing sharing(String value) {
    for (CacheSharing s : CacheSharing.values()) {
      if (s.value().equals(value.toLowerCase(Locale.ROOT))) {
        return s;
      }
    }
    throw new IllegalArgumentException("unsupported sharing value \"" + value + "\"");
  }

  private static boolean parseBool(String key, String value) {
    // Go's strconv.ParseBool
    return switch (value) {
      case "1", "t", "T", "TRUE", "true", "True" -> true;
      case "0", "f", "F", "FALSE", "false", "False" -> false;
      default -> throw new IllegalArgumentException("invalid value for " + key + ": " + value);
    };
  }

  private static long parseUnsigned(String value, int radix, String what) {
    try {
      long v = Long.parseLong(value, radix);
      if (v < 0 || v > 0xFFFF_FFFFL) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid value " + value + " for " + what);
    }
  }

  /** go-units {@code RAMInBytes}: {@code 64m}, {@code 1g}, {@code 512KiB}, binary multiples. */
  private static long ramInBytes(String value) {
    Matcher m = RAM_SIZE.matcher(value);
    if (!m.matches()) {
      throw new IllegalArgumentException("invalid value for size: " + value);
    }
    double size;
    try {
      size = Double.parseDouble(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid value for size: " + value);
    }
    String unit = m.group(2) == null ? "" : m.group(2).toLowerCase(Locale.ROOT);
    int power = "kmgtp".indexOf(unit) + 1;
    return (long) (size * Math.pow(1024, unit.isEmpty() ? 0 : power));
  }

  /** Go {@code encoding/csv} for one record: commas separate, double quotes quote. */
  private static List<String> csvFields(String spec) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int i = 0;
    while (true) {
      field.setLength(0);
      if (i < spec.length() && spec.charAt(i) == '"') {
        i++;
        while (true) {
          if (i >= spec.length()) {
            throw new IllegalArgumentException(
                "failed to parse csv mounts: extraneous or missing \" in quoted-field");
          }
          char c = spec.charAt(i++);
          if (c == '"') {
            if (i < spec.length() && spec.charAt(i) == '"') {
              field.append('"');
              i++;
            } else {
              break;
            }
          } else {
            field.append(c);
          }
        }
        if (i < spec.length() && spec.charAt(i) != ',') {
          throw new IllegalArgumentException(
              "failed to parse csv mounts: extraneous or missing \" in quoted-field");
        }
      } else {
        while (i < spec.length() && spec.charAt(i) != ',') {
          char c = spec.charAt(i++);
          if (c == '"') {
            throw new IllegalArgumentException(
                "failed to parse csv mounts: bare \" in non-quoted-field");
          }
          field.append(c);
        }
      }
      fields.add(field.toString());
      if (i >= spec.length()) {
        return fields;
      }
      i++; // the comma
    }
  }

  private static final class Builder {
    MountType type = MountType.BIND;
    String from = "";
    String source = "";
    String target = "";
    boolean readOnly;
    long sizeLimit;
    String id = "";
    CacheSharing sharing;
    boolean required;
    Integer mode;
    Long uid;
    Long gid;
    String env;

    RunMount validate(boolean readOnlyAuto) {
      boolean fileInfoAllowed =
          type == MountType.SECRET || type == MountType.SSH || type == MountType.CACHE;
      if (!fileInfoAllowed) {
        if (mode != null) {
          throw notAllowed("mode");
        }
        if (uid != null) {
          throw notAllowed("uid");
        }
        if (gid != null) {
          throw notAllowed("gid");
        }
      }
      if (readOnlyAuto) {
        readOnly = !(type == MountType.CACHE || type == MountType.TMPFS);
      }
      if (type == MountType.SECRET) {
        if (!from.isEmpty()) {
          throw new IllegalArgumentException("secret mount should not have a from");
        }
        if (sharing != null) {
          throw new IllegalArgumentException("secret mount should not define sharing");
        }
        if (source.isEmpty() && target.isEmpty() && id.isEmpty() && env == null) {
          throw new IllegalArgumentException(
              "invalid secret mount. one of source, target required");
        }
        if (!source.isEmpty() && !id.isEmpty()) {
          throw new IllegalArgumentException("both source and id can't be set");
        }
      }
      if (sharing != null && type != MountType.CACHE) {
        throw new IllegalArgumentException(
            "invalid cache sharing set for " + type.value() + " mount");
      }
      return new RunMount(
          type, from, source, target, readOnly, sizeLimit, id, sharing, required, mode, uid, gid,
          env);
    }

    private IllegalArgumentException notAllowed(String what) {
      return new IllegalArgumentException(
          what + " not allowed for \"" + type.value() + "\" type mounts");
    }
  }
}
