package dev.stagefarm.dockerfile.parser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.dockerfile.ConformanceCorpus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads BuildKit's parser corpus (../shared/conformance/buildkit-parser) byte-exact. */
final class CorpusFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private CorpusFiles() {}

  static Path parserDir(String first, String... more) {
    return ConformanceCorpus.parser().resolve(Path.of(first, more));
  }

  static byte[] bytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read corpus file " + file, e);
    }
  }

  static JsonNode json(String derivedFile) {
    Path file = parserDir("derived", derivedFile);
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read corpus file " + file, e);
    }
  }

  /** The case folders below a corpus folder, sorted by name. */
  static Stream<Path> caseDirs(String folder) {
    try (Stream<Path> dirs = Files.list(parserDir(folder))) {
      return dirs.filter(Files::isDirectory).sorted().toList().stream();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list corpus folder " + folder, e);
    }
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
