package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code scripts/ClassFileUpgrade.java} and the launcher's {@code stagefarm_aot_upgraded_jar} (scripts/aot-cache.sh):
 * picocli's Java 5 class files rewritten as Java 8 ones, so that the one-shot's AOT cache can hold them — the same
 * entries, every class of version 52, run by the JVM's type-checking verifier with the same results; made once per
 * picocli jar; a jar that cannot be upgraded leaves the launcher on the jar as it is.
 */
class ClassFileUpgradeTest {
  private static final Path SCRIPTS = Path.of("..", "scripts").toAbsolutePath().normalize();
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  @TempDir Path dir;

  private static Path picocliJar() throws Exception {
    return Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  @Test
  void picocliComesOutAsJava8ClassFilesThatRunTheCommandLineAsBefore() throws Exception {
    assumeTrue(Runtime.version().feature() >= 24, "the class-file API is final in JDK 24");
    Path picocli = picocliJar();
    Path upgraded = dir.resolve("picocli-upgraded.jar");
    assertThat(run(List.of(JAVA, SCRIPTS.resolve("ClassFileUpgrade.java").toString(), picocli.toString(),
        upgraded.toString())).exit()).isZero();

    Map<String, byte[]> before = entries(picocli);
    Map<String, byte[]> after = entries(upgraded);
    assertThat(after.keySet()).containsExactlyElementsOf(before.keySet());
    int classes = 0;
    for (Map.Entry<String, byte[]> entry : after.entrySet()) {
      String name = entry.getKey();
      if (name.endsWith(".class") && !name.startsWith("META-INF/")) {
        assertThat(majorVersion(before.get(name))).as(name).isLessThan(50);
        assertThat(majorVersion(entry.getValue())).as(name).isEqualTo(52);
        classes++;
      } else {
        assertThat(entry.getValue()).as(name).isEqualTo(before.get(name));
      }
    }
    assertThat(classes).isGreaterThan(100);

    // the command line's help, its parse errors: the same from the upgraded classes (loaded from that jar, so
    // verified by the JVM's type-checking verifier) as from picocli's own
    Path classes1 = dir.resolve("classes.log");
    String classPath = System.getProperty("java.class.path");
    for (List<String> args : List.of(List.of("build", "--help"), List.of("build", "--no-such-flag", "."),
        List.of("build", "--workers", "many", "--one-shot", "."))) {
      Run original = run(cli(classPath, args, List.of()));
      Run fromUpgraded = run(cli(upgraded + java.io.File.pathSeparator + classPath, args,
          List.of("-Xlog:class+load=info:file=" + classes1)));
      assertThat(fromUpgraded.output()).as(String.join(" ", args)).isEqualTo(original.output());
      assertThat(fromUpgraded.exit()).isEqualTo(original.exit());
      assertThat(Files.readAllLines(classes1).stream().filter(line -> line.contains(" picocli.CommandLine source:")))
          .singleElement().asString().endsWith(" source: file:" + upgraded);
    }
  }

  @Test
  void aJarThatCannotBeUpgradedWritesNothingAndTheLauncherRunsTheJarAsItIs() throws Exception {
    assumeTrue(Runtime.version().feature() >= 24, "the class-file API is final in JDK 24");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "flock (util-linux) not installed");
    Path broken = dir.resolve("broken.jar");
    try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(broken))) {
      jar.putNextEntry(new JarEntry("p/Broken.class"));
      jar.write("not a class file".getBytes(StandardCharsets.UTF_8));
    }
    Path out = dir.resolve("out.jar");
    Run direct = run(List.of(JAVA, SCRIPTS.resolve("ClassFileUpgrade.java").toString(), broken.toString(),
        out.toString()));
    assertThat(direct.exit()).isEqualTo(1);
    assertThat(direct.output()).contains("broken.jar");
    assertThat(out).doesNotExist();

    Path cache = Files.writeString(dir.resolve("app.aot"), "a cache");
    Run launcher = upgradedJar(broken, out, cache);
    assertThat(launcher.exit()).as("no upgraded jar: the launcher keeps -jar").isNotZero();
    assertThat(launcher.output()).isEmpty();
    assertThat(out).as("an empty file: not tried again until the jar changes").isEmptyFile();
    FileTime marked = Files.getLastModifiedTime(out);
    assertThat(upgradedJar(broken, out, cache).exit()).isNotZero();
    assertThat(Files.getLastModifiedTime(out)).isEqualTo(marked);
  }

  @Test
  void theLauncherMakesTheUpgradedJarOnceAndDropsTheCacheMadeWithoutIt() throws Exception {
    assumeTrue(Runtime.version().feature() >= 24, "the class-file API is final in JDK 24");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "flock (util-linux) not installed");
    Path picocli = Files.copy(picocliJar(), dir.resolve("picocli.jar"));
    Files.setLastModifiedTime(picocli, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    Path out = dir.resolve("stagefarm-picocli.jar");
    Path cache = Files.writeString(dir.resolve("app.aot"), "made with picocli's own jar");

    Run first = upgradedJar(picocli, out, cache);
    assertThat(first.exit()).isZero();
    assertThat(first.output()).isEqualTo(out + "\n");
    assertThat(out).isNotEmptyFile();
    assertThat(cache).as("its class path was another").doesNotExist();

    Files.writeString(cache, "made with the upgraded jar");
    FileTime made = Files.getLastModifiedTime(out);
    Run again = upgradedJar(picocli, out, cache);
    assertThat(again.output()).isEqualTo(out + "\n");
    assertThat(Files.getLastModifiedTime(out)).as("not made again").isEqualTo(made);
    assertThat(cache).exists();

    // a new picocli jar: made again, the cache dropped
    Files.setLastModifiedTime(picocli, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
    assertThat(upgradedJar(picocli, out, cache).exit()).isZero();
    assertThat(Files.getLastModifiedTime(out)).isGreaterThan(made);
    assertThat(cache).doesNotExist();
  }

  private Run upgradedJar(Path jar, Path upgraded, Path cache) throws Exception {
    return run(List.of("bash", "-c", "set -euo pipefail; . \"$1\"; shift; stagefarm_aot_upgraded_jar \"$@\"",
        "launcher", SCRIPTS.resolve("aot-cache.sh").toString(), jar.toString(), upgraded.toString(),
        cache.toString()));
  }

  private static List<String> cli(String classPath, List<String> args, List<String> jvmOptions) {
    List<String> command = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classPath, Main.class.getName()));
    command.addAll(args);
    return command;
  }

  private record Run(int exit, String output) {}

  private Run run(List<String> command) throws Exception {
    Path log = Files.createTempFile(dir, "run", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().put("STAGEFARM_HOME", dir.resolve("home").toString());
    Process process = builder.start();
    assertThat(process.waitFor(3, TimeUnit.MINUTES)).as("ended: " + command).isTrue();
    return new Run(process.exitValue(), Files.readString(log));
  }

  private static Map<String, byte[]> entries(Path jar) throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      for (ZipEntry entry : java.util.Collections.list(zip.entries())) {
        try (InputStream in = zip.getInputStream(entry)) {
          entries.put(entry.getName(), in.readAllBytes());
        }
      }
    }
    return entries;
  }

  /** The class file's major version (bytes 6-7, after the magic number and the minor version). */
  private static int majorVersion(byte[] classFile) {
    return ((classFile[6] & 0xff) << 8) | (classFile[7] & 0xff);
  }
}
