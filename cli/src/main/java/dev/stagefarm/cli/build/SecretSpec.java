package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * One {@code --secret} of {@code stagefarm build}, with docker buildx's syntax and defaults: CSV
 * fields {@code type=file|env}, {@code id}, {@code src}/{@code source}, {@code env}.
 *
 * <ul>
 *   <li>{@code type=file}: {@code id} defaults to the base name of {@code src}; {@code src} to the id.
 *   <li>{@code type=env}: {@code id} defaults to the {@code env} name; {@code env} to the id (and a
 *       {@code src} given with {@code type=env} names the variable, as in buildx).
 *   <li>no type: {@code src} means a file, {@code env} a variable; with neither, the variable named
 *       by the id when it is set, otherwise the file named by the id (BuildKit's secrets provider).
 * </ul>
 *
 * The value is read here, on the client: at most {@link #MAX_BYTES} (BuildKit's limit).
 */
public record SecretSpec(String id, byte[] value) {
  /** BuildKit's {@code MaxSecretSize}; the coordinator refuses larger values too. */
  public static final int MAX_BYTES = 500 << 10;

  /** Never prints the value. */
  @Override
  public String toString() {
    return "SecretSpec[" + id + "]";
  }

  /**
   * @param env the client's environment ({@code System::getenv})
   * @throws UserError naming the field, file or variable that is wrong
   */
  public static SecretSpec parse(String text, Function<String, String> env) {
    return parse(text, env, Path.of(""));
  }

  /** As {@link #parse(String, Function)}, a relative {@code src} in {@code base}. */
  public static SecretSpec parse(String text, Function<String, String> env, Path base) {
    String type = null;
    String id = null;
    String src = null;
    String var = null;
    for (String field : csvFields(text)) {
      int eq = field.indexOf('=');
      if (eq < 0) {
        throw ExitCodes.usage("--secret: invalid field '" + field + "' must be a key=value pair");
      }
      String key = field.substring(0, eq).toLowerCase(Locale.ROOT);
      String value = field.substring(eq + 1);
      switch (key) {
        case "type" -> {
          if (!value.equals("file") && !value.equals("env")) {
            throw ExitCodes.usage("--secret: unsupported secret type \"" + value + "\" (file or env)");
          }
          type = value;
        }
        case "id" -> id = value;
        case "src", "source" -> src = value;
        case "env" -> var = value;
        default -> throw ExitCodes.usage("--secret: unexpected key '" + key + "' in '" + field
            + "' (type, id, src, source, env)");
      }
    }
    if ("env".equals(type) && isEmpty(var)) { // buildx: type=env,src=VAR names the variable
      var = src;
      src = null;
    }
    if (!isEmpty(src) && !isEmpty(var)) {
      throw ExitCodes.usage("--secret " + text + ": give src (a file) or env (a variable), not both");
    }
    if (isEmpty(id)) {
      id = !isEmpty(src) ? Path.of(src).getFileName().toString() : var;
    }
    if (isEmpty(id)) {
      throw ExitCodes.usage("--secret " + text + ": the secret has no id (id=ID, or src=FILE / env=VAR to name it)");
    }
    if (isEmpty(src) && isEmpty(var)) {
      if ("env".equals(type) || (type == null && env.apply(id) != null)) {
        var = id;
      } else {
        src = id;
      }
    }
    return new SecretSpec(id, isEmpty(var) ? fromFile(id, src, base) : fromEnv(id, var, env));
  }

  private static byte[] fromFile(String id, String src, Path base) {
    Path file = base.resolve(src);
    try {
      if (Files.isDirectory(file)) {
        throw ExitCodes.usage("--secret id=" + id + ": " + src + " is a directory, not a file");
      }
      long size = Files.size(file);
      if (size > MAX_BYTES) {
        throw ExitCodes.usage("--secret id=" + id + ": " + src + " is " + size + " bytes, over the limit of "
            + MAX_BYTES + " bytes per secret");
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw ExitCodes.usage("--secret id=" + id + ": file " + src + " not found");
    } catch (IOException e) {
      throw ExitCodes.usage("--secret id=" + id + ": reading " + src + " failed: " + e.getMessage());
    }
  }

  private static byte[] fromEnv(String id, String var, Function<String, String> env) {
    String value = env.apply(var);
    if (value == null) {
      throw ExitCodes.usage("--secret id=" + id + ": environment variable " + var + " is not set");
    }
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > MAX_BYTES) {
      throw ExitCodes.usage("--secret id=" + id + ": environment variable " + var + " is " + bytes.length
          + " bytes, over the limit of " + MAX_BYTES + " bytes per secret");
    }
    return bytes;
  }

  private static boolean isEmpty(String s) {
    return s == null || s.isEmpty();
  }

  static List<String> csvFields(String text) {
    return CsvFields.split("--secret", text);
  }
}
