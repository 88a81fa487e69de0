package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.RunContext;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The local farm's command lines built ahead ({@link SpareCommandLines}): a run takes the spare its command's last
 * run left, never one another run has parsed, and gets the same parse and output as on a model of its own.
 */
class SpareCommandLinesTest {

  private static final RunContext RUN = new RunContext(new PrintStream(new ByteArrayOutputStream(), true,
      StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
      new ByteArrayInputStream(new byte[0]), Map.of(), Path.of(""), false, RunContext.SHUTDOWN_HOOK, Optional.empty());

  /** The spare of {@code command} once the background thread has built it (or empty after ten seconds). */
  private static CommandLine awaitSpare(SpareCommandLines spares, String command) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      CommandLine spare = spares.spare(command);
      if (spare != null) {
        return spare;
      }
      Thread.sleep(10);
    }
    return null;
  }

  /** The parsed {@code build} line as the gate sees it: each option's name and value, in the model's order. */
  private static List<String> parsedBy(CommandLine cli, String... args) {
    List<String> seen = new ArrayList<>();
    Main.Outcome outcome = Main.execute(cli, RUN, parsed -> {
      for (CommandLine.Model.OptionSpec option : parsed.subcommand().commandSpec().options()) {
        seen.add(option.longestName() + "=" + option.getValue());
      }
      return Optional.of("only parsed"); // nothing runs
    }, args);
    assertThat(outcome).isEqualTo(new Main.Outcome.Declined("only parsed"));
    return seen;
  }

  @Test
  void aRunTakesTheSpareOnceAndTheNextRunAFreshOne() throws Exception {
    try (SpareCommandLines spares = new SpareCommandLines()) {
      CommandLine first = spares.take("build", ".");
      assertThat(first.getSubcommands()).containsOnlyKeys("build");
      assertThat(spares.take("build", ".")).isNotSameAs(first); // none prepared: a new one each time

      List<String> used = parsedBy(first, "build", "--workers", "3", "-t", "a", "--build-arg", "X=1", ".");
      assertThat(used).contains("--workers=3", "--tag=[a]", "--build-arg=[X=1]");
      spares.prepare("build");
      CommandLine spare = awaitSpare(spares, "build");
      assertThat(spare).isNotNull().isNotSameAs(first);
      spares.prepare("build"); // one spare per command: this one stays
      assertThat(spares.take("build", ".")).isSameAs(spare);
      assertThat(spares.take("build", ".")).isNotSameAs(spare).isNotSameAs(first); // taken: never handed out again

      // a spare parses as a model of its own does: nothing of the run before it
      spares.prepare("build");
      assertThat(awaitSpare(spares, "build")).isNotNull();
      List<String> next = parsedBy(spares.take("build", "."), "build", ".");
      assertThat(next).isEqualTo(parsedBy(Main.commandLine(null, "build", "."), "build", "."))
          .contains("--workers=null", "--tag=[]", "--build-arg=[]");
    }
  }

  @Test
  void eachCommandHasItsOwnSpareAndAClosedOneStillServes() throws Exception {
    SpareCommandLines spares = new SpareCommandLines();
    spares.prepare("bake");
    CommandLine bake = awaitSpare(spares, "bake");
    assertThat(bake).isNotNull();
    assertThat(bake.getSubcommands()).containsOnlyKeys("bake");
    assertThat(spares.take("build", ".").getSubcommands()).containsOnlyKeys("build"); // not bake's spare
    assertThat(spares.take("bake")).isSameAs(bake);

    spares.close();
    spares.prepare("build"); // the farm is stopping: nothing is built, nothing fails
    assertThat(spares.spare("build")).isNull();
    assertThat(spares.take("build", ".").getSubcommands()).containsOnlyKeys("build");
  }
}
