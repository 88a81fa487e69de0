package dev.stagefarm.bake;

import dev.stagefarm.bake.hcl.HclException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Finds and reads bake files: {@code -f} in order, or buildx's default names in the directory. */
public final class BakeFiles {
  /** buildx's lookup order; every one found is read, in this order. */
  public static final List<String> DEFAULT_NAMES = List.of(
      "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml",
      "docker-bake.json", "docker-bake.hcl", "docker-bake.override.json", "docker-bake.override.hcl");

  private BakeFiles() {}

  /** The default files present in {@code directory}; none is an error naming what was looked for. */
  public static List<Path> defaults(Path directory) {
    List<Path> found = new ArrayList<>();
    for (String name : DEFAULT_NAMES) {
      if (Files.isRegularFile(directory.resolve(name))) {
        found.add(directory.resolve(name));
      }
    }
    if (found.isEmpty()) {
      throw new HclException(null, "no bake file found in " + directory.toAbsolutePath().normalize() + " (looked for "
          + String.join(", ", DEFAULT_NAMES) + "); name one with -f");
    }
    return found;
  }

  /** Reads the files ({@code -} is standard input, read as HCL) into one definition. */
  public static BakeDefinition read(List<Path> files, InputStream stdin, Function<String, String> env) {
    List<BakeDefinition> parts = new ArrayList<>();
    for (Path file : files) {
      String name = file.toString();
      byte[] bytes;
      try {
        bytes = name.equals("-") ? stdin.readNBytes(BakeFileReader.MAX_FILE_BYTES + 1) : readBounded(file);
      } catch (NoSuchFileException e) {
        throw new HclException(null, "bake file " + name + " not found");
      } catch (IOException e) {
        throw new HclException(null, "reading bake file " + name + " failed: " + e.getMessage());
      }
      String text = BakeFileReader.text(name, bytes);
      String lower = name.toLowerCase(java.util.Locale.ROOT);
      if (lower.endsWith(".json")) {
        parts.add(BakeFileReader.json(name, text));
      } else if (lower.endsWith(".yml") || lower.endsWith(".yaml")) {
        Path directory = file.toAbsolutePath().getParent();
        parts.add(ComposeFile.read(name, text, Path.of("").toAbsolutePath().relativize(directory), env));
      } else {
        parts.add(BakeFileReader.hcl(name, text));
      }
    }
    return BakeDefinition.concat(parts);
  }

  private static byte[] readBounded(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(BakeFileReader.MAX_FILE_BYTES + 1);
    }
  }
}
