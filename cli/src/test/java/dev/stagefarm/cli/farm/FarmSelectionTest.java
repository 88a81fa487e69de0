package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.RunContext;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code build} and {@code bake} take the run they serve and the local farm they would use from
 * their one {@link FarmSelection} mixin: what the local farm's run socket ({@link LocalFarmRuns})
 * and {@link Main#commandLine} rely on to serve a thin client's command line.
 */
class FarmSelectionTest {

  @Test
  void buildAndBakeNameTheLocalFarmOfTheirFlags(@TempDir Path home) {
    for (String command : new String[] {"build", "bake"}) {
      Optional<LocalFarm.Settings> settings = localFarm(home, command, "--workers", "3",
          "--insecure-registry", "127.0.0.1:5000", "--farm-idle-timeout", "5m");

      assertThat(settings).as(command).hasValueSatisfying(s -> {
        assertThat(s.home()).isEqualTo(FarmFlags.home());
        assertThat(s.workers()).isEqualTo(3);
        assertThat(s.registryFlags()).containsExactly("--insecure-registry", "127.0.0.1:5000");
        assertThat(s.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
      });
      assertThat(localFarm(home, command, "--one-shot")).as(command + " --one-shot").isEmpty();
      assertThat(localFarm(home, command, "--coordinator", "127.0.0.1:7070")).as(command + " --coordinator")
          .isEmpty();
    }
  }

  @Test
  void withoutWorkersTheLocalFarmRunsItsDefaultAndTheOneShotFarmItsOwn(@TempDir Path home) {
    assertThat(localFarm(home, "build")).hasValueSatisfying(s ->
        assertThat(s.workers()).isEqualTo(LocalFarm.DEFAULT_WORKERS));
    assertThat(selection(home, "build", "--one-shot").workers()).isEqualTo(FarmSelection.ONE_SHOT_WORKERS);
    assertThat(selection(home, "build", "--one-shot", "--workers", "5").workers()).isEqualTo(5);
    assertThat(LocalFarm.DEFAULT_WORKERS).as("a wide fan-out's stages at once, as BuildKit runs them")
        .isGreaterThan(FarmSelection.ONE_SHOT_WORKERS);
  }

  @Test
  void aCommandWithoutAFarmHasNoSelection() {
    CommandLine.ParseResult parsed = Main.commandLine(null, "parse").parseArgs("parse", "-f", "Dockerfile");

    assertThat(FarmSelection.of(parsed.subcommand().commandSpec())).isEmpty();
  }

  @Test
  void bakeServesTheRunItIsGivenNotThisProcess(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("docker-bake.hcl"), "target \"app\" {\n  dockerfile = \"app.Dockerfile\"\n}\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    RunContext run = new RunContext(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]),
        Map.of("STAGEFARM_HOME", dir.resolve("home").toString()), dir, false, RunContext.SHUTDOWN_HOOK,
        Optional.empty());

    // the bake file is found in the run's directory, the definition printed on the run's stdout
    int exit = Main.commandLine(run, "bake", "--print", "app").execute("bake", "--print", "app");

    assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"app\"").contains("app.Dockerfile");
  }

  private static Optional<LocalFarm.Settings> localFarm(Path context, String command, String... flags) {
    return selection(context, command, flags).localFarmSettings();
  }

  private static FarmSelection selection(Path context, String command, String... flags) {
    String[] args = new String[flags.length + 2];
    args[0] = command;
    System.arraycopy(flags, 0, args, 1, flags.length);
    args[args.length - 1] = command.equals("build") ? context.toString() : "default";
    CommandLine.ParseResult parsed = Main.commandLine(null, args).parseArgs(args);
    return FarmSelection.of(parsed.subcommand().commandSpec()).orElseThrow();
  }
}
