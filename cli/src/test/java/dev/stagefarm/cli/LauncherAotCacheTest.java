package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's AOT cache for {@code --one-shot} runs ({@code scripts/aot-cache.sh}, JDK 25+), run for real with
 * bash and this JDK on a small program: the first run makes it (in the background, after the run) without a word
 * on standard output, later runs load their classes from it, a recording of a run whose farm ran no task makes a
 * partial cache that later runs replace, and nothing about it — corrupt, truncated, stale, being made by another
 * launch — breaks a run or changes what it prints and returns.
 */
class LauncherAotCacheTest {
  private static final Path SCRIPT = Path.of("..", "scripts", "aot-cache.sh").toAbsolutePath().normalize();

  @TempDir Path dir;
  private Path jar;
  private Path lib;
  private Path cache;

  @BeforeEach
  void aProgramInAJar() throws Exception {
    assumeTrue(Runtime.version().feature() >= 25, "AOT caches need JDK 25");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "flock (util-linux) not installed");
    jar = dir.resolve("app.jar");
    lib = Files.createDirectories(dir.resolve("lib"));
    cache = dir.resolve("app.aot");
    writeProgram("v1");
  }

  @Test
  void theFirstRunMakesTheCacheSilentlyAndLaterRunsLoadTheirClassesFromIt() throws Exception {
    Run first = launch(0, "hello");
    assertThat(first.out()).isEqualTo("v1 hello\n");
    assertThat(first.err()).isEmpty();
    assertThat(first.exit()).isZero();
    assertThat(cache).isNotEmptyFile();
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .as("no recording, temporary cache or marker left").containsExactly("app.aot", "app.aot.lock", "app.jar",
              "lib", "src");
    }

    Path classes = dir.resolve("classes.log");
    Run second = launch(List.of("-Xlog:class+load=info:file=" + classes), 0, "again");
    assertThat(second.out()).isEqualTo("v1 again\n");
    assertThat(Files.readString(classes)).contains("Probe source: shared objects file");
  }

  @Test
  void aCorruptOrTruncatedCacheDoesNotBreakALaunchNorChangeItsOutputOrExitCode() throws Exception {
    launch(0, "training");
    byte[] whole = Files.readAllBytes(cache);

    Files.write(cache, "not an AOT cache at all".repeat(1000).getBytes(StandardCharsets.UTF_8));
    Run corrupt = launch(3, "corrupt");
    assertThat(corrupt.out()).isEqualTo("v1 corrupt\n");
    assertThat(corrupt.err()).isEmpty();
    assertThat(corrupt.exit()).isEqualTo(3);

    Files.write(cache, java.util.Arrays.copyOf(whole, whole.length / 2));
    Run truncated = launch(4, "truncated");
    assertThat(truncated.out()).isEqualTo("v1 truncated\n");
    assertThat(truncated.err()).isEmpty();
    assertThat(truncated.exit()).isEqualTo(4);

    Files.write(cache, new byte[0]);
    assertThat(launch(0, "empty").out()).isEqualTo("v1 empty\n");
  }

  @Test
  void aRebuiltJarRunsItsNewCodeNotTheCachedClassesAndTheCacheIsMadeAgain() throws Exception {
    launch(0, "training");

    // the JVM itself would run the cached Probe of v1 from the new jar (JDK 25.0.3): the launcher must notice
    writeProgram("v2");
    madeBefore(jar);
    Run rebuilt = launch(0, "after");
    assertThat(rebuilt.out()).isEqualTo("v2 after\n");
    assertThat(Files.getLastModifiedTime(cache)).isGreaterThan(Files.getLastModifiedTime(jar));

    // a dependency of the class path rebuilt: the same
    Path dependency = lib.resolve("dep.jar");
    Files.copy(jar, dependency);
    madeBefore(dependency);
    assertThat(launch(0, "dep").out()).isEqualTo("v2 dep\n");
    assertThat(Files.getLastModifiedTime(cache)).as("made again").isGreaterThan(Files.getLastModifiedTime(dependency));
  }

  /** Dates the cache 10 s back and {@code rebuilt} 5 s back: rebuilt after the cache was made, before now. */
  private void madeBefore(Path rebuilt) throws IOException {
    long now = System.currentTimeMillis();
    Files.setLastModifiedTime(cache, FileTime.fromMillis(now - 10_000));
    Files.setLastModifiedTime(rebuilt, FileTime.fromMillis(now - 5_000));
  }

  @Test
  void aFailedFirstRunKeepsItsExitCodeAndMakesNoCache() throws Exception {
    Run failed = launch(7, "failing");
    assertThat(failed.exit()).isEqualTo(7);
    assertThat(failed.out()).isEqualTo("v1 failing\n");
    assertThat(cache).doesNotExist();
  }

  @Test
  void aRunWhoseFarmRanNoTaskMakesAPartialCacheAndLaterRunsRecordAgainUntilOneRunsATask() throws Exception {
    Path partial = dir.resolve("app.aot.partial");
    Run cached = launch(List.of(), 0, "cached", "none");
    assertThat(cached.out()).isEqualTo("v1 cached\n");
    assertThat(cache).isNotEmptyFile();
    assertThat(partial).hasContent("1");

    FileTime partialMade = Files.getLastModifiedTime(cache);
    Run again = launch(List.of(), 0, "again", "none");
    assertThat(again.out()).isEqualTo("v1 again\n");
    assertThat(again.err()).isEmpty();
    assertThat(partial).as("recorded again, not run from the partial cache").hasContent("2");
    assertThat(Files.getLastModifiedTime(cache)).isGreaterThan(partialMade);

    Run task = launch(List.of(), 0, "task", "task");
    assertThat(task.out()).isEqualTo("v1 task\n");
    assertThat(partial).as("a whole cache now").doesNotExist();
    Path classes = dir.resolve("classes.log");
    launch(List.of("-Xlog:class+load=info:file=" + classes), 0, "later", "none");
    assertThat(Files.readString(classes)).contains("Probe source: shared objects file");
    assertThat(partial).doesNotExist();
  }

  @Test
  void afterThreeRecordingsThatRanNoTaskThePartialCacheIsUsedForGood() throws Exception {
    Path partial = dir.resolve("app.aot.partial");
    for (int i = 0; i < 3; i++) {
      launch(List.of(), 0, "cached", "none");
    }
    assertThat(partial).hasContent("3");

    Path classes = dir.resolve("classes.log");
    Run fourth = launch(List.of("-Xlog:class+load=info:file=" + classes), 0, "fourth", "none");
    assertThat(fourth.out()).isEqualTo("v1 fourth\n");
    assertThat(Files.readString(classes)).contains("Probe source: shared objects file");
    assertThat(partial).hasContent("3");
  }

  @Test
  void whileAnotherLaunchMakesTheCacheARunGoesWithoutOneAndLeavesItAlone() throws Exception {
    awaitMaker = false; // the lock's holder below never ends by itself
    Path lock = dir.resolve("app.aot.lock");
    Process holder = new ProcessBuilder("/usr/bin/flock", "-x", lock.toString(), "sleep", "120").start();
    try {
      for (int i = 0; i < 100 && !heldByAnother(lock); i++) {
        Thread.sleep(50);
      }
      Run run = launch(0, "meanwhile");
      assertThat(run.out()).isEqualTo("v1 meanwhile\n");
      assertThat(run.exit()).isZero();
      assertThat(cache).as("made by the lock's holder only").doesNotExist();
    } finally {
      holder.destroy();
      holder.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static boolean heldByAnother(Path lock) throws Exception {
    Process probe = new ProcessBuilder("/usr/bin/flock", "-n", lock.toString(), "true").start();
    return probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() != 0;
  }

  private record Run(int exit, String out, String err) {}

  private Run launch(int exitCode, String word) throws Exception {
    return launch(List.of(), exitCode, word);
  }

  private Run launch(List<String> jvmOptions, int exitCode, String word) throws Exception {
    return launch(jvmOptions, exitCode, word, "task");
  }

  /** Whether {@link #launch} waits for the cache's maker (in the background after the launcher returns). */
  private boolean awaitMaker = true;

  /** {@code stagefarm_aot_run} as the launcher calls it: JVM options, then {@code -jar JAR} and the arguments. */
  private Run launch(List<String> jvmOptions, int exitCode, String word, String task) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", "-c",
        "set -euo pipefail; . \"$1\"; shift; stagefarm_aot_run \"$@\"", "launcher", SCRIPT.toString(),
        cache.toString(), jar.toString(), lib.toString()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar.toString(), Integer.toString(exitCode), word, task));
    ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null")
        .toFile()));
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    builder.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process process = builder.start();
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("the launch ended").isTrue();
    Run run = new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    Path lock = dir.resolve("app.aot.lock");
    if (awaitMaker && Files.exists(lock)) {
      Process maker = new ProcessBuilder("/usr/bin/flock", "-w", "120", lock.toString(), "true").start();
      assertThat(maker.waitFor(3, TimeUnit.MINUTES) && maker.exitValue() == 0).as("the maker ended").isTrue();
    }
    return run;
  }

  /**
   * Compiles {@code Probe} into {@link #jar}: prints VERSION and its second argument, exits with its first, and
   * writes the launcher's note (as the one-shot farm does when it runs a task) when its third is {@code task}.
   */
  private void writeProgram(String version) throws IOException {
    Path src = Files.createDirectories(dir.resolve("src"));
    Path source = src.resolve("Probe.java");
    Files.writeString(source, "public class Probe { public static void main(String[] a) throws Exception {"
        + " System.out.println(\"" + version + " \" + a[1]);"
        + " String note = System.getenv(\"STAGEFARM_AOT_NOTE\");"
        + " if (a[2].equals(\"task\") && note != null) java.nio.file.Files.writeString(java.nio.file.Path.of(note), \"x\");"
        + " System.exit(Integer.parseInt(a[0])); } }");
    int compiled = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", src.toString(), source.toString());
    assertThat(compiled).isZero();
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Probe");
    Path next = dir.resolve("app.jar.next");
    try (OutputStream file = Files.newOutputStream(next); JarOutputStream out = new JarOutputStream(file, manifest)) {
      out.putNextEntry(new JarEntry("Probe.class"));
      out.write(Files.readAllBytes(src.resolve("Probe.class")));
      out.closeEntry();
    }
    Files.move(next, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
