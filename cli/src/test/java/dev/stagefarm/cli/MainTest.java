package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParseResult;

/** The root command registers only the subcommand a run names (start-up cost, issue 12). */
class MainTest {

  private static String name(Class<?> subcommand) {
    return subcommand.getAnnotation(Command.class).name();
  }

  @Test
  void aRunNamingASubcommandRegistersThatOneOnly() {
    for (Class<?> subcommand : Main.SUBCOMMANDS) {
      if (!name(subcommand).equals("help")) {
        assertThat(Main.subcommandsFor(name(subcommand), "--help")).containsExactly(subcommand);
      }
    }
    assertThat(Main.SUBCOMMANDS.stream().map(MainTest::name).distinct()).hasSameSizeAs(Main.SUBCOMMANDS);
    // with its flags: up's come from its key table (a model transformer), build's from mixins
    assertThat(CliRun.of("up", "--help").stdout()).contains("--workers").contains("--print-config");
    assertThat(CliRun.of("build", "--help").stdout()).contains("--coordinator").contains("--one-shot");
    assertThat(CliRun.of("farm", "--help").stdout()).contains("status").contains("stop");
  }

  @Test
  void helpTheUsageAndAMistypedNameSeeEverySubcommand() {
    assertThat(Main.subcommandsFor()).isEqualTo(Main.SUBCOMMANDS);
    assertThat(Main.subcommandsFor("help", "build")).isEqualTo(Main.SUBCOMMANDS);
    assertThat(Main.subcommandsFor("--version")).isEqualTo(Main.SUBCOMMANDS);
    assertThat(Main.subcommandsFor("biuld")).isEqualTo(Main.SUBCOMMANDS);

    CliRun usage = CliRun.of();
    for (Class<?> subcommand : Main.SUBCOMMANDS) {
      assertThat(usage.stderr()).contains("  " + name(subcommand) + " ");
    }
    assertThat(CliRun.of("help", "build").stdout()).contains("Usage: stagefarm build");
    CliRun mistyped = CliRun.of("biuld", ".");
    assertThat(mistyped.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(mistyped.stderr()).contains("biuld").contains("build");
  }

  @Test
  void aDockerfileSyntaxErrorLoadsNoProtobufRequestGrpcOrOtherCommands(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\nFRM busybox\n");
    Path classes = dir.resolve("classes.log");
    // a child JVM: this one has loaded everything the other tests needed
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xshare:off", "-Xlog:class+load:file=" + classes, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "build", "--build-arg", "A=b", "--platform", "linux/arm64", dir.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("child.log").toFile())
        .start();
    assertThat(child.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(Files.readString(dir.resolve("child.log"))).isEqualTo("error: Dockerfile:2: unknown instruction: FRM\n");
    List<String> loaded = Files.readAllLines(classes).stream()
        .map(line -> line.replaceFirst("^\\[[^]]*\\]\\[[^]]*\\]\\[[^]]*\\] ", "").split(" ")[0])
        .toList();
    assertThat(loaded).contains(Main.class.getName(), "dev.stagefarm.cli.build.DockerfileCheck");
    assertThat(loaded).doesNotContain(
        "dev.stagefarm.proto.v1.SubmitBuildRequest", // the request is built after the check
        "com.google.protobuf.Descriptors", // nor any descriptor
        "io.grpc.ManagedChannel", // nor a channel
        "dev.stagefarm.config.WorkerKeys", // up/coordinator/worker's option tables: not introspected
        "dev.stagefarm.cli.UpCommand$Options");
  }

  @Test
  void mainDoesNotSearchTheClassPathForGroovy(@TempDir Path dir) throws Exception {
    Path exceptions = dir.resolve("exceptions.log");
    // a child JVM through main: a failed class lookup (every jar of the class path searched) throws and is logged
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xlog:exceptions=info:file=" + exceptions, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "build", "--help")
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("child.log").toFile())
        .start();
    assertThat(child.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(child.exitValue()).isZero();
    assertThat(Files.readString(dir.resolve("child.log"))).contains("Usage: stagefarm build");
    assertThat(Files.readString(exceptions)).doesNotContain("groovy.lang.Closure");
  }

  /** A run through the gate of {@link Main#execute(RunContext, Function, String...)}. */
  private record Gated(Main.Outcome outcome, String out, String err, List<String> asked) {}

  private static Gated gated(Function<ParseResult, Optional<String>> gate, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> asked = new ArrayList<>();
    RunContext run = new RunContext(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]), Map.of(),
        Path.of(""), false, RunContext.SHUTDOWN_HOOK, Optional.empty());
    Main.Outcome outcome = Main.execute(run, parsed -> {
      asked.add(parsed.subcommand().commandSpec().name() + " " + parsed.subcommand().matchedArgs().size());
      return gate.apply(parsed);
    }, args);
    return new Gated(outcome, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), asked);
  }

  @Test
  void theGateSeesTheRunsOwnParseAndADeclinedLineRunsNothing() {
    // declined: the gate saw the parsed line once, and nothing ran (build --help would print the usage)
    Gated declined = gated(parsed -> Optional.of("not here"), "build", "--workers", "3", "--help");
    assertThat(declined.outcome()).isEqualTo(new Main.Outcome.Declined("not here"));
    assertThat(declined.asked()).containsExactly("build 2");
    assertThat(declined.out()).isEmpty();
    assertThat(declined.err()).isEmpty();

    // let through: the same parse runs
    Gated ran = gated(parsed -> Optional.empty(), "build", "--help");
    assertThat(ran.outcome()).isEqualTo(new Main.Outcome.Ran(0));
    assertThat(ran.asked()).containsExactly("build 1");
    assertThat(ran.out()).contains("Usage: stagefarm build");

    // a usage error is the run's to report: the gate is not asked
    Gated usage = gated(parsed -> Optional.of("not here"), "build", "--no-such-flag", ".");
    assertThat(usage.outcome()).isEqualTo(new Main.Outcome.Ran(ExitCodes.USAGE));
    assertThat(usage.asked()).isEmpty();
    assertThat(usage.err()).contains("--no-such-flag");
  }
}
