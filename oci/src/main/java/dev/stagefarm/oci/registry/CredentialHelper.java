package dev.stagefarm.oci.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Docker credential helper ({@code docker-credential-<name>}, as {@code credsStore} and {@code credHelpers}
 * of a Docker config name it): {@code get} with the server on stdin, {@code {"Username","Secret"}} on stdout.
 * Found in the given directories (the {@code PATH}); bounded in time and output; its secret never appears in
 * an error.
 */
record CredentialHelper(String name, List<Path> searchPath) {
  private static final int MAX_OUTPUT = 64 * 1024;
  private static final long TIMEOUT_SECONDS = 30;

  CredentialHelper {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException("invalid credential helper name '" + name + "'");
    }
    searchPath = List.copyOf(searchPath);
  }

  /** The directories of {@code $PATH}. */
  static List<Path> systemPath() {
    String path = System.getenv("PATH");
    return path == null ? List.of() : java.util.Arrays.stream(path.split(java.io.File.pathSeparator))
        .filter(s -> !s.isBlank()).map(Path::of).toList();
  }

  /** Whether the helper's program is on the search path. */
  boolean installed() {
    return executable().isPresent();
  }

  private Optional<Path> executable() {
    return searchPath.stream().map(d -> d.resolve("docker-credential-" + name)).filter(Files::isExecutable)
        .findFirst();
  }

  /** The credentials the helper holds for {@code server}; empty when it has none. */
  Optional<RegistryCredentials> get(String server) {
    String program = "docker-credential-" + name;
    Path executable = executable().orElseThrow(() -> new UncheckedIOException(new IOException("credential helper " + program
            + " (named by the Docker config) is not on PATH")));
    Process process;
    try {
      process = new ProcessBuilder(executable.toString(), "get").redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + executable + ": " + e.getMessage(), e);
    }
    try (OutputStream in = process.getOutputStream(); InputStream out = process.getInputStream()) {
      in.write(server.getBytes(StandardCharsets.UTF_8));
      in.close();
      byte[] output = out.readNBytes(MAX_OUTPUT + 1);
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IOException("did not finish within " + TIMEOUT_SECONDS + " s");
      }
      if (output.length > MAX_OUTPUT) {
        throw new IOException("wrote more than " + MAX_OUTPUT + " bytes");
      }
      String text = new String(output, StandardCharsets.UTF_8).strip();
      if (process.exitValue() != 0) {
        if (text.contains("credentials not found")) { // the helpers' protocol for "none for this server"
          return Optional.empty();
        }
        throw new IOException("exited with " + process.exitValue() + ": " + text.lines().findFirst().orElse(""));
      }
      JsonNode json = new ObjectMapper().readTree(text);
      JsonNode user = json == null ? null : json.get("Username");
      JsonNode secret = json == null ? null : json.get("Secret");
      if (user == null || secret == null || !user.isTextual() || !secret.isTextual()) {
        throw new IOException("did not answer {\"Username\": …, \"Secret\": …}");
      }
      return Optional.of(new RegistryCredentials(user.asText(), secret.asText()));
    } catch (IOException e) {
      throw new UncheckedIOException("credential helper " + program + " get for " + server + ": " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new IOException("interrupted while running " + program));
    } finally {
      process.destroyForcibly();
    }
  }
}
