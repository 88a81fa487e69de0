package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code --load}: hands a docker-archive to the Docker engine with {@code docker load}, which
 * honours {@code DOCKER_HOST} and the docker CLI's contexts. No docker CLI or no engine is a
 * farm-side problem for the build (exit 3) with the engine's own words.
 */
public final class ImageLoader {
  private static final long TIMEOUT_MINUTES = 30;
  private static final int OUTPUT_LIMIT = 4096;

  private ImageLoader() {}

  /** @return what docker said ("Loaded image: name:tag") */
  public static String load(Path dockerArchive) {
    return load(dockerArchive, System.getenv());
  }

  /** @param env the docker CLI's environment (DOCKER_HOST, DOCKER_CONTEXT, PATH, …) */
  static String load(Path dockerArchive, Map<String, String> env) {
    Process process;
    try {
      ProcessBuilder builder = new ProcessBuilder(List.of("docker", "load", "-i", dockerArchive.toString()))
          .redirectErrorStream(true);
      builder.environment().clear();
      builder.environment().putAll(env);
      process = builder.start();
    } catch (IOException e) {
      throw ExitCodes.farm("--load needs the docker CLI on PATH and a running Docker engine: " + e.getMessage());
    }
    try {
      byte[] output = process.getInputStream().readNBytes(OUTPUT_LIMIT);
      process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw ExitCodes.farm("--load: docker load did not finish in " + TIMEOUT_MINUTES + " minutes");
      }
      String said = new String(output, StandardCharsets.UTF_8).strip();
      if (process.exitValue() != 0) {
        throw ExitCodes.farm("--load: docker load failed (is a Docker engine running? DOCKER_HOST="
            + env.getOrDefault("DOCKER_HOST", "unset") + "): " + said);
      }
      return said;
    } catch (IOException e) {
      throw ExitCodes.farm("--load: reading docker load's output failed: " + e.getMessage());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw ExitCodes.farm("--load: interrupted");
    }
  }
}
