package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.addTo;
import static dev.stagefarm.worker.ProgramBuilder.copyTo;
import static dev.stagefarm.worker.ProgramBuilder.exec;
import static dev.stagefarm.worker.ProgramBuilder.inputId;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static dev.stagefarm.worker.exec.LocalStages.newLayers;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.layer.LayerCompressions;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheKeys;
import dev.stagefarm.program.ConfigDelta;
import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.InputPath;
import dev.stagefarm.program.Mount;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.worker.ProgramBuilder;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.TestContext;
import dev.stagefarm.worker.store.CachedOp;
import dev.stagefarm.worker.store.LayerRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stage programs really executed: runc over overlayfs on the busybox image, with the content
 * store and cache records in memory. Each test builds a program as the coordinator would compile
 * the Dockerfile lines its ops name, and checks the result's layers and files or the failure.
 */
class StageExecutionTest {
  private static LocalStages stages;

  @BeforeAll
  static void start() throws Exception {
    stages = new LocalStages();
  }

  @Test
  void runsArgvAsGivenAndRecordsEachOpsLayerUnderItsKey() throws Exception {
    StageProgram program = program()
        .run("echo shell-form > /shell.txt")
        .run(exec("").argv("/bin/sh", "-c", "echo exec-form > /exec.txt"))
        .run(exec("").argv("/bin/sh", "-c", "echo heredoc-1 > /heredoc.txt\necho heredoc-2 >> /heredoc.txt\n"))
        .build();
    StageState result = stages.run(program).completed();
    List<LayerRef> layers = newLayers(stages.busybox, result);
    assertThat(layers).hasSize(3);
    List<CacheKey> keys = CacheKeys.chain(program);
    assertThat(stages.records.get(keys.get(0))).contains(CachedOp.of(layers.get(0)));
    assertThat(stages.records.get(keys.get(2))).contains(CachedOp.of(layers.get(2)));
    assertThat(result.config().diffIds()).endsWith(layers.stream().map(LayerRef::diffId).toArray(Digest[]::new));
    Path root = stages.unpack(result);
    assertThat(Files.readString(root.resolve("shell.txt"))).isEqualTo("shell-form\n");
    assertThat(Files.readString(root.resolve("exec.txt"))).isEqualTo("exec-form\n");
    assertThat(Files.readString(root.resolve("heredoc.txt"))).isEqualTo("heredoc-1\nheredoc-2\n");
    // mount points runc needed (/proc, /dev, /etc/hosts …) are not in the layers
    for (LayerRef layer : layers) {
      assertThat(stages.layerEntries(layer).keySet()).noneMatch(n -> n.startsWith("proc") || n.startsWith("sys/")
          || n.equals("etc/hosts") || n.equals("etc/resolv.conf"));
    }
  }

  @Test
  void aShebangHeredocRunsAsAReadOnlyExecutableUnderDevPipesThatNoLayerHolds() throws Exception {
    // BuildKit's testRunShebangHeredoc (#!/bin/awk -f; busybox-static puts awk in /usr/bin); the compiler emits this op
    StageProgram program = program()
        .run(exec("").argv("/bin/sh", "-c", "/dev/pipes/EOF")
            .mount(pipes("EOF", "#!/bin/sh\necho \"$0\" > /zero\n"
                + "touch /dev/pipes/new 2>/dev/null && echo writable >> /zero\nexit 0\n")))
        .run(exec("").argv("/bin/sh", "-c", "/dev/pipes/AWK").cwd("/home/app").user("app")
            .mount(pipes("AWK", "#!/usr/bin/awk -f\nBEGIN {\n\tprint \"hello\" >> \"./out1\"\n\tprint \"world\" >> \"./out1\"\n}\n")))
        .build();
    StageState result = stages.run(program).completed();
    Path root = stages.unpack(result);
    assertThat(Files.readString(root.resolve("zero"))).isEqualTo("/dev/pipes/EOF\n"); // read-only even for root
    assertThat(Files.readString(root.resolve("home/app/out1"))).isEqualTo("hello\nworld\n");
    for (LayerRef layer : newLayers(stages.busybox, result)) {
      assertThat(stages.layerEntries(layer).keySet()).noneMatch(n -> n.startsWith("dev"));
    }
  }

  private static Mount.Inline pipes(String name, String script) {
    return new Mount.Inline("/dev/pipes", List.of(new CopySource.Inline(name, script.getBytes(StandardCharsets.UTF_8))),
        0755);
  }

  @Test
  void aRunThatDeletesBaseFilesProducesWhiteouts() throws Exception {
    StageState result = stages.run(program().run("rm /etc/group && rm -r /home/app").build()).completed();
    List<LayerRef> layers = newLayers(stages.busybox, result);
    assertThat(layers).hasSize(1);
    assertThat(stages.layerEntries(layers.get(0)).keySet()).contains("etc/.wh.group", "home/.wh.app");
    Path root = stages.unpack(result);
    assertThat(root.resolve("etc/group")).doesNotExist();
    assertThat(root.resolve("home/app")).doesNotExist();
    assertThat(root.resolve("etc/passwd")).exists();
  }

  /**
   * runc creates the mount points (/etc/hosts, /etc/resolv.conf, /etc/hostname) the image lacks, copying
   * their parent dirs up; those stubs and the unchanged parents are removed again (one read of the upper
   * dir's xattrs tells an opaque dir from a copied-up one, and the snapshot takes that read).
   */
  @Test
  void mountPointStubsAndTheirUnchangedParentsLeaveNoLayer() throws Exception {
    StageState unchanged = stages.run(program().run("true").build()).completed();
    assertThat(newLayers(stages.busybox, unchanged)).isEmpty();

    StageState wrote = stages.run(program().run("echo x > /etc/extra").build()).completed();
    List<LayerRef> layers = newLayers(stages.busybox, wrote);
    assertThat(layers).hasSize(1);
    assertThat(stages.layerEntries(layers.get(0)).keySet()).containsExactlyInAnyOrder("etc/", "etc/extra");
  }

  @Test
  void copiesContextSelectionsWithChownAndChmodAndInlineFiles() throws Exception {
    TestContext context = stages.context(Map.of(
        "a.txt", "A", "b.txt", "B", "c.md", "C", "dir/x.txt", "X", "dir/sub/y.txt", "Y"));
    StageProgram program = program()
        .copy(copyTo("/dst/").context(context.select("a.txt")).context(context.select("b.txt")).text("*.txt /dst/"))
        .copy(copyTo("/owned/").context(context.select("dir")).chown("app:app").chmod(0640))
        .copy(copyTo("/inline.conf").inline("EOF", "inline=yes\n"))
        .copy(copyTo("/inline-dir/").inline("A", "first\n").inline("B", "second\n"))
        .build();
    Path root = stages.unpack(stages.run(program).completed());
    assertThat(Files.readString(root.resolve("dst/a.txt"))).isEqualTo("A");
    assertThat(Files.readString(root.resolve("dst/b.txt"))).isEqualTo("B");
    assertThat(root.resolve("dst/c.md")).doesNotExist();
    Path x = root.resolve("owned/x.txt");
    assertThat(Files.readString(x)).isEqualTo("X");
    assertThat(Files.readString(root.resolve("owned/sub/y.txt"))).isEqualTo("Y");
    assertThat(owner(x)).containsExactly(1000, 1000);
    assertThat(mode(x)).isEqualTo(0640);
    assertThat(owner(root.resolve("dst/a.txt"))).containsExactly(0, 0);
    assertThat(mode(root.resolve("dst/a.txt"))).isEqualTo(0644);
    assertThat(Files.readString(root.resolve("inline.conf"))).isEqualTo("inline=yes\n");
    assertThat(Files.readString(root.resolve("inline-dir/A"))).isEqualTo("first\n");
    assertThat(Files.readString(root.resolve("inline-dir/B"))).isEqualTo("second\n");
  }

  @Test
  void aContextFileLandsOnDestUnlessDestIsADirectory() throws Exception {
    TestContext context = stages.context(Map.of("app.conf", "conf"));
    StageProgram program = program()
        .copy(copyTo("/renamed.conf").context(context.select("app.conf")))
        .copy(copyTo("/etc").context(context.select("app.conf"))) // an existing directory in the rootfs
        .copy(copyTo("/new/").context(context.select("app.conf")))
        .build();
    Path root = stages.unpack(stages.run(program).completed());
    assertThat(Files.readString(root.resolve("renamed.conf"))).isEqualTo("conf");
    assertThat(Files.readString(root.resolve("etc/app.conf"))).isEqualTo("conf");
    assertThat(Files.readString(root.resolve("new/app.conf"))).isEqualTo("conf");
  }

  @Test
  void aWorkerFetchesOnlyTheContextFilesItsOpsSelect() throws Exception {
    TestContext context = stages.context(Map.of("wanted/one.txt", "1", "wanted/two.txt", "2", "big/other.bin", "x"));
    int before = stages.store.contextReads();
    stages.run(program().copy(copyTo("/w/").context(context.select("wanted"))).build()).completed();
    assertThat(stages.store.contextReads() - before).isEqualTo(2);
  }

  @Test
  void hostileContextEntriesFailTheStageForGood() throws Exception {
    TestContext context = stages.context(Map.of("d/file", "content")).symlink("d/link", "/etc");
    var selection = context.select("d");
    var through = new dev.stagefarm.program.ContextSelection("d", "", new java.util.ArrayList<>(selection.entries()) {
      {
        add(new dev.stagefarm.program.ContextFile("link/passwd", dev.stagefarm.program.ContextFile.Type.FILE, 0644,
            selection.entries().stream().filter(e -> e.path().equals("file")).findFirst().orElseThrow().digest(), 7,
            "", 0));
      }
    });
    StageFailure failure = stages.run(program().copy(copyTo("/x/").context(through)).build()).failed();
    assertThat(failure.retriable()).isFalse();
    assertThat(failure.message()).contains("link/passwd");
    assertThat(failure.line()).isEqualTo(2);
  }

  @Test
  void aMissingFromPathFailsNamingThePathAndIsNotRetried() throws Exception {
    StageState build = stages.run(program().run("mkdir /out").build()).completed();
    StageFailure failure = stages.run(program().input("0-build", "build")
        .copy(copyTo("/x").from(inputId("0-build"), "/out/missing.txt")).build(), stages.busybox,
        Map.of(inputId("0-build"), build), false).failed();
    assertThat(failure.message()).contains("/out/missing.txt").contains("not found").contains("build");
    assertThat(failure.line()).isEqualTo(2);
    assertThat(failure.instructionIndex()).isZero();
    assertThat(failure.retriable()).isFalse();
  }

  @Test
  void copiesFromAnotherStagesResultAndBuildsOnIt() throws Exception {
    StageState build = stages.run(program().run("mkdir /out && echo built-artifact > /out/artifact.txt").build())
        .completed();
    // the stage's own upper dir went into the worker's layer cache: a dependent stage here need not extract it
    Digest built = build.layers().getLast().diffId();
    assertThat(stages.workDir.resolve("work/layers").resolve(built.hex())).isDirectory();
    StageState result = stages.run(program().input("0-build", "build")
        .copy(copyTo("/app/").from(inputId("0-build"), "/out/artifact.txt"))
        .run("test -f /app/artifact.txt && test ! -e /out && echo ok > /checked")
        .build(), stages.busybox, Map.of(inputId("0-build"), build), false).completed();
    assertThat(newLayers(stages.busybox, result)).hasSize(2);
    Path root = stages.unpack(result);
    assertThat(Files.readString(root.resolve("app/artifact.txt"))).isEqualTo("built-artifact\n");
    assertThat(root.resolve("out")).doesNotExist();

    // a stage FROM another stage's result starts from its layers
    StageState derived = stages.run(program().run("test -f /out/artifact.txt && echo derived > /derived.txt").build(),
        build, Map.of(), false).completed();
    assertThat(derived.layers()).startsWith(build.layers().toArray(LayerRef[]::new));
    assertThat(Files.readString(stages.unpack(derived).resolve("derived.txt"))).isEqualTo("derived\n");
  }

  @Test
  void anInternalStagesLayerIsAPlainTarAndTheStageCopyingFromItStoresGzip() throws Exception {
    StageState build = stages.run(program().run("echo internal > /internal.txt").build(), stages.busybox, Map.of(),
        false, Compression.NONE).completed();
    LayerRef internal = build.layers().getLast();
    byte[] blob = stages.store.blob(internal.blob().digest());
    assertThat(internal.blob().mediaType()).isEqualTo(MediaTypes.OCI_LAYER_TAR);
    assertThat(internal.blob().digest()).isEqualTo(internal.diffId()).isEqualTo(Digest.of(blob));
    assertThat(LayerCompressions.detect(new java.io.BufferedInputStream(new java.io.ByteArrayInputStream(blob))))
        .isEqualTo(Compression.NONE);

    StageState target = stages.run(program().input("0-build", "build")
        .copy(copyTo("/").from(inputId("0-build"), "/internal.txt")).build(),
        stages.busybox, Map.of(inputId("0-build"), build), false).completed();
    LayerRef exported = target.layers().getLast();
    byte[] gz = stages.store.blob(exported.blob().digest());
    assertThat(exported.blob().mediaType()).isEqualTo(MediaTypes.OCI_LAYER_TAR_GZIP);
    assertThat(Digest.of(gz)).isEqualTo(exported.blob().digest());
    assertThat(exported.blob().size()).isEqualTo(gz.length);
    assertThat(new byte[] {gz[0], gz[1]}).containsExactly(0x1f, 0x8b);
    assertThat(stages.layerEntries(exported)).containsKey("internal.txt");
  }

  @Test
  void copyFromASnapshotHeldLocallyGivesTheSameLayerAsCopyFromTheDownloadedBlob() throws Exception {
    StageProgram source = program().run("mkdir -p /out/d && echo local > /out/d/f && ln -s f /out/d/l").build();
    StageState build = stages.run(source, stages.busybox, Map.of(), false, Compression.NONE).completed();
    StageProgram copy = program().input("0-build", "build").copy(copyTo("/dst/").from(inputId("0-build"), "/out/")).build();
    // here: the source stage's upper dir is in this worker's layer cache
    assertThat(stages.workDir.resolve("work/layers").resolve(build.layers().getLast().diffId().hex())).isDirectory();
    LayerRef local = stages.run(copy, stages.busybox, Map.of(inputId("0-build"), build), false).completed()
        .layers().getLast();

    // another worker without it: downloads and extracts the blob
    LocalStages other = new LocalStages();
    for (LayerRef layer : build.layers()) {
      byte[] bytes = stages.store.blob(layer.blob().digest());
      other.store.putBlob(layer.blob().digest(), bytes.length, new java.io.ByteArrayInputStream(bytes));
    }
    assertThat(other.workDir.resolve("work/layers").resolve(build.layers().getLast().diffId().hex())).doesNotExist();
    LayerRef remote = other.run(copy, other.busybox, Map.of(inputId("0-build"), build), false).completed()
        .layers().getLast();
    // /dst/ is made by the COPY and takes the time of each run (as in BuildKit without SOURCE_DATE_EPOCH): the two
    // runs may fall in different seconds. Everything copied must be the same, its times included.
    java.util.Set<String> madeByTheCopy = java.util.Set.of("dst/");
    assertThat(other.layerHeaders(remote, madeByTheCopy)).containsOnlyKeys("dst/", "dst/d/", "dst/d/f", "dst/d/l")
        .isEqualTo(stages.layerHeaders(local, madeByTheCopy));
  }

  @Test
  void aSymbolicChmodChangesEachEntryRelativeToItsOwnMode() throws Exception {
    // BuildKit's testChmodNonOctal: u=rwX,go=rX gives x only to directories and entries that had one
    StageState build = stages.run(program()
        .run("mkdir -p /in/d && echo f > /in/f && chmod 0640 /in/f && echo x > /in/x && chmod 0700 /in/x"
            + " && chmod 0700 /in/d && echo g > /in/d/g && chmod 0666 /in/d/g")
        .build()).completed();
    StageState result = stages.run(program().input("0-build", "build")
        .copy(copyTo("/new/out/").from(inputId("0-build"), "/in").chmod("u=rwX,go=rX"))
        .copy(copyTo("/inline/").inline("script", "#!/bin/sh\n").chmod("+x"))
        .copy(copyTo("/nowrite/").from(inputId("0-build"), "/in/d").chmod("go-w"))
        .build(), stages.busybox, Map.of(inputId("0-build"), build), false).completed();
    Path root = stages.unpack(result);
    assertThat(mode(root.resolve("new/out/f"))).isEqualTo(0644);
    assertThat(mode(root.resolve("new/out/x"))).isEqualTo(0755);
    assertThat(mode(root.resolve("new/out/d"))).isEqualTo(0755);
    assertThat(mode(root.resolve("new/out/d/g"))).isEqualTo(0644);
    assertThat(mode(root.resolve("new"))).isEqualTo(0755); // created parents keep 0755, as in BuildKit
    assertThat(mode(root.resolve("inline/script"))).isEqualTo(0755); // heredoc files start at 0644
    assertThat(mode(root.resolve("nowrite/g"))).isEqualTo(0644);
  }

  @Test
  void copyFromKeepsTheSourceOwnersUnlessChownAndAUidAloneIsAlsoTheGroup() throws Exception {
    StageState build = stages.run(program()
        .run("mkdir -p /out/sub && echo f > /out/sub/f && chown -R 1234:5678 /out && echo a > /a && chown app:app /a")
        .build()).completed();
    Map<String, StageState> inputs = Map.of(inputId("0-build"), build);
    StageState result = stages.run(program().input("0-build", "build")
        .copy(copyTo("/kept/").from(inputId("0-build"), "/out"))
        .copy(copyTo("/kept-file").from(inputId("0-build"), "/a"))
        .copy(copyTo("/uid-only/").from(inputId("0-build"), "/out").chown("1001"))
        .copy(copyTo("/named/").from(inputId("0-build"), "/a").chown("app"))
        .build(), stages.busybox, inputs, false).completed();
    Path root = stages.unpack(result);
    assertThat(owner(root.resolve("kept/sub"))).containsExactly(1234, 5678);
    assertThat(owner(root.resolve("kept/sub/f"))).containsExactly(1234, 5678);
    assertThat(owner(root.resolve("kept-file"))).containsExactly(1000, 1000);
    assertThat(owner(root.resolve("uid-only/sub/f"))).containsExactly(1001, 1001);
    assertThat(owner(root.resolve("named/a"))).containsExactly(1000, 1000); // passwd's primary group
  }

  @Test
  void aWildcardOverAnInputThatMatchesNothingIsNoErrorAndTheOtherSourcesAreCopied() throws Exception {
    StageState build = stages.run(program().run("mkdir /out && echo one > /out/one.txt").build()).completed();
    StageState result = stages.run(program().input("0-build", "build")
        .copy(copyTo("/got/").from(inputId("0-build"), "/out/*.none").from(inputId("0-build"), "/out/*.txt"))
        .build(), stages.busybox, Map.of(inputId("0-build"), build), false).completed();
    Path root = stages.unpack(result);
    assertThat(Files.readString(root.resolve("got/one.txt"))).isEqualTo("one\n");
  }

  @Test
  void copyParentsFromAnInputKeepsOnlyThePathAfterThePivot() throws Exception {
    StageState build = stages.run(program()
        .run("mkdir -p /x/y/z /src/a /src/b && echo F > /x/y/file.txt && echo D > /x/y/z/deep.txt"
            + " && echo 1 > /src/a/one.txt && echo 2 > /src/b/two.txt")
        .build()).completed();
    String id = inputId("0-build");
    StageState result = stages.run(program().input("0-build", "build")
        .copy(copyTo("/p1/").from(id, "/x/./y/file.txt").parents())
        .copy(copyTo("/p2/").from(id, "/x/./y/*/*.txt").parents())
        .copy(copyTo("/p3/").from(id, "/src/*/./*.txt").parents())
        .copy(copyTo("/p4/").from(id, "/src/*/*.txt").parents())
        .build(), stages.busybox, Map.of(id, build), false).completed();
    Path root = stages.unpack(result);
    assertThat(Files.readString(root.resolve("p1/y/file.txt"))).isEqualTo("F\n");
    assertThat(root.resolve("p1/x")).doesNotExist();
    assertThat(Files.readString(root.resolve("p2/y/z/deep.txt"))).isEqualTo("D\n");
    assertThat(Files.readString(root.resolve("p3/one.txt"))).isEqualTo("1\n");
    assertThat(Files.readString(root.resolve("p3/two.txt"))).isEqualTo("2\n");
    assertThat(Files.readString(root.resolve("p4/src/a/one.txt"))).isEqualTo("1\n");
  }

  @Test
  void copyParentsOfContextSelectionsLandsAtTheirPlace() throws Exception {
    TestContext context = stages.context(Map.of("x/y/file.txt", "F", "src/a/one.txt", "1", "src/b/two.txt", "2",
        "src/b/skip.log", "no"));
    StageProgram program = program()
        .copy(copyTo("/p1/").context(context.select("x/y/file.txt", "y/file.txt")).parents())
        .copy(copyTo("/tree/").context(context.select("src/a/one.txt", "src/a/one.txt"))
            .context(context.select("src/b/two.txt", "src/b/two.txt")).parents())
        .copy(copyTo("/flat/").context(context.select("src")))
        .build();
    Path root = stages.unpack(stages.run(program).completed());
    assertThat(Files.readString(root.resolve("p1/y/file.txt"))).isEqualTo("F");
    assertThat(Files.readString(root.resolve("tree/src/a/one.txt"))).isEqualTo("1");
    assertThat(Files.readString(root.resolve("tree/src/b/two.txt"))).isEqualTo("2");
    assertThat(Files.readString(root.resolve("flat/b/two.txt"))).isEqualTo("2");
    // the coordinator applies --exclude to context selections; the worker copies what it was given
    assertThat(Files.readString(root.resolve("flat/b/skip.log"))).isEqualTo("no");
  }

  @Test
  void excludeOverAnInputSeesPathsBelowEachMatchWithReincludes() throws Exception {
    StageState build = stages.run(program()
        .run("mkdir -p /src/pkg /src/keep && echo a > /src/a.txt && echo n > /src/pkg/notes.txt"
            + " && echo l > /src/pkg/x.log && echo k > /src/keep/k.log && echo m > /src/main.go")
        .build()).completed();
    String id = inputId("0-build");
    StageState result = stages.run(program().input("0-build", "build")
        // patterns are relative to the match (/src): *.txt drops a.txt, not pkg/notes.txt (BuildKit's fsutil)
        .copy(copyTo("/x/").from(id, "/src").exclude("*.txt").exclude("**/*.log").exclude("!keep/k.log"))
        // the match itself is never excluded
        .copy(copyTo("/y/").from(id, "/src/main.go").exclude("main.go"))
        .build(), stages.busybox, Map.of(id, build), false).completed();
    Path root = stages.unpack(result);
    assertThat(root.resolve("x/a.txt")).doesNotExist();
    assertThat(root.resolve("x/pkg/notes.txt")).hasContent("n");
    assertThat(root.resolve("x/pkg/x.log")).doesNotExist();
    assertThat(root.resolve("x/keep/k.log")).hasContent("k");
    assertThat(root.resolve("x/main.go")).hasContent("m");
    assertThat(root.resolve("y/main.go")).hasContent("m");
  }

  @Test
  void doubleStarAfterAParentsPivotCrossesDirectories() throws Exception {
    StageState build = stages.run(program()
        .run("mkdir -p /t/a/b1/c/d/e /t/a/b2/e && echo 1 > /t/a/b1/c/d/e/f && echo 2 > /t/a/b2/e/f")
        .build()).completed();
    String id = inputId("0-build");
    StageState result = stages.run(program().input("0-build", "build")
        .copy(copyTo("/out/").from(id, "/t/a/b*/./**/e").parents())
        .build(), stages.busybox, Map.of(id, build), false).completed();
    Path root = stages.unpack(result);
    assertThat(root.resolve("out/c/d/e/f")).hasContent("1");
    assertThat(root.resolve("out/e/f")).hasContent("2");
  }

  @Test
  void aDirectoryCopiedOntoAFileFailsForGood() throws Exception {
    TestContext context = stages.context(Map.of("dir/f", "f"));
    StageFailure failure = stages.run(program().copy(copyTo("/etc/passwd").context(context.select("dir"))).build())
        .failed();
    assertThat(failure.message()).contains("cannot copy a directory onto the file");
    assertThat(failure.retriable()).isFalse();
  }

  @Test
  void anUnknownChownUserFailsForGood() throws Exception {
    TestContext context = stages.context(Map.of("f", "f"));
    StageFailure failure = stages.run(program().copy(copyTo("/f").context(context.select("f")).chown("nobody-here"))
        .build()).failed();
    assertThat(failure.message()).contains("nobody-here");
    assertThat(failure.retriable()).isFalse();
  }

  @Test
  void aContextFileMissingFromTheStoreIsAnInfrastructureFault() throws Exception {
    var lost = new dev.stagefarm.program.ContextSelection("lost.txt", "lost.txt", List.of(
        new dev.stagefarm.program.ContextFile("", dev.stagefarm.program.ContextFile.Type.FILE, 0644,
            Digest.of("never uploaded").toString(), 14, "", 0)));
    StageFailure failure = stages.run(program().copy(copyTo("/x").context(lost)).build()).failed();
    assertThat(failure.retriable()).isTrue();
    assertThat(failure.line()).isEqualTo(2);
  }

  @Test
  void workdirMakesItsDirectoryAndMetadataOpsMakeNoLayer() throws Exception {
    StageProgram program = program()
        .env("APP_HOME", "/srv/app")
        .metadata("USER", "USER app:app", ConfigDelta.NONE.withUser("app:app"))
        .workdir("/srv/app", "app:app")
        .workdir("/srv/app", "app:app") // already there: no layer
        .metadata("CMD", "CMD [\"/bin/app\"]", ConfigDelta.NONE.withCmd(List.of("/bin/app")))
        .build();
    LocalStages.Outcome outcome = stages.run(program);
    StageState result = outcome.completed();
    assertThat(newLayers(stages.busybox, result)).hasSize(1);
    assertThat(outcome.progress().layers).extracting(Optional::isPresent).containsExactly(false, false, true, false,
        false);
    Path dir = stages.unpack(result).resolve("srv/app");
    assertThat(dir).isDirectory();
    assertThat(owner(dir)).containsExactly(1000, 1000);
    ContainerConfig c = result.config().config();
    assertThat(c.envValue("APP_HOME")).contains("/srv/app");
    assertThat(c.user()).isEqualTo("app:app");
    assertThat(c.workingDir()).isEqualTo("/srv/app");
    assertThat(c.cmd()).contains(List.of("/bin/app"));
    assertThat(result.config().history()).hasSize(stages.busybox.config().history().size() + 5);
  }

  @Test
  void aCacheMountIsSharedBetweenStagesAndStaysOutOfLayers() throws Exception {
    Mount.Cache shared = new Mount.Cache("/cache", false, "shared-cache", Mount.Sharing.SHARED, Optional.empty(),
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    StageState a = stages.run(program().run(exec("echo from-first-stage > /cache/value").mount(shared)).build())
        .completed();
    for (LayerRef layer : newLayers(stages.busybox, a)) {
      assertThat(stages.layerEntries(layer).keySet()).noneMatch(n -> n.contains("value"));
    }
    Mount.Cache elsewhere = new Mount.Cache("/var/cache/x", false, "shared-cache", Mount.Sharing.SHARED,
        Optional.empty(), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    StageState b = stages.run(program().run(exec("cp /var/cache/x/value /got.txt").mount(elsewhere)).build())
        .completed();
    assertThat(Files.readString(stages.unpack(b).resolve("got.txt"))).isEqualTo("from-first-stage\n");
  }

  @Test
  void aCacheMountWithFromStartsAsACopyOfThatStagesPath() throws Exception {
    StageState seed = stages.run(program().run("mkdir -p /seed/data && echo seeded > /seed/data/hello").build())
        .completed();
    String id = inputId("0-seed");
    Mount.Cache seeded = new Mount.Cache("/c", false, "seeded-cache", Mount.Sharing.SHARED,
        Optional.of(new InputPath(id, "/seed/data")), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    ProgramBuilder reader = program().input("0-seed", "seed");
    StageProgram firstProgram = reader.run(exec("cat /c/hello > /got && echo kept > /c/added").mount(seeded)).build();
    StageState first = stages.run(firstProgram, stages.busybox, Map.of(id, seed), false).completed();
    assertThat(Files.readString(stages.unpack(first).resolve("got"))).isEqualTo("seeded\n");
    for (LayerRef layer : newLayers(stages.busybox, first)) {
      assertThat(stages.layerEntries(layer).keySet()).noneMatch(n -> n.contains("hello") || n.contains("added"));
    }
    // the seed is copied once, when the cache is created: later RUNs see what earlier ones wrote
    StageProgram secondProgram = program().rootKey(firstProgram.rootKey())
        .run(exec("cat /c/added > /second").mount(seeded)).build();
    secondProgram = new StageProgram(secondProgram.version(), secondProgram.base(), firstProgram.inputs(),
        secondProgram.ops(), secondProgram.platform(), secondProgram.rootKey(), secondProgram.sourceDateEpoch(),
        secondProgram.stageName());
    StageState second = stages.run(secondProgram, stages.busybox, Map.of(id, seed), false).completed();
    assertThat(Files.readString(stages.unpack(second).resolve("second"))).isEqualTo("kept\n");
    assertThat(stages.unpack(seed).resolve("seed/data/added")).doesNotExist();
  }

  @Test
  void aSecretIsReadableDuringRunAndInNoLayerOrLog() throws Exception {
    Mount.Secret atDefault = new Mount.Secret("/run/secrets/token", LocalStages.SECRET_ID, "", true,
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    Mount.Secret elsewhere = new Mount.Secret("/etc/app-token", LocalStages.SECRET_ID, "", true, OptionalInt.empty(),
        OptionalInt.empty(), OptionalInt.empty());
    LocalStages.Outcome outcome = stages.run(program()
        .run(exec("test \"$(sha256sum /run/secrets/token | cut -c1-64)\" = \"%s\" && echo verified > /verified.txt"
            .formatted(Digest.of(LocalStages.SECRET_VALUE).hex())).mount(atDefault))
        .run(exec("cp /etc/app-token /copied-by-user.txt && rm /copied-by-user.txt").mount(elsewhere))
        .build());
    StageState result = outcome.completed();
    assertThat(Files.readString(stages.unpack(result).resolve("verified.txt"))).isEqualTo("verified\n");
    for (LayerRef layer : newLayers(stages.busybox, result)) {
      for (Map.Entry<String, byte[]> entry : stages.layerEntries(layer).entrySet()) {
        assertThat(entry.getKey()).doesNotContain("secrets").doesNotContain("app-token");
        assertThat(new String(entry.getValue(), StandardCharsets.ISO_8859_1)).doesNotContain(LocalStages.SECRET_VALUE);
      }
    }
    assertThat(outcome.progress().log()).doesNotContain(LocalStages.SECRET_VALUE);
  }

  @Test
  void aRunThatPrintsASecretShowsItMaskedInItsLogAndFailureTail() throws Exception {
    Mount.Secret fileAndEnv = new Mount.Secret("/run/secrets/token", LocalStages.SECRET_ID, "TOKEN", true,
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    LocalStages.Outcome printed = stages.run(program()
        .run(exec("echo \"file: $(cat /run/secrets/token)\"; echo \"env: $TOKEN\" >&2").mount(fileAndEnv))
        .build());
    printed.completed();
    assertThat(printed.progress().log()).contains("file: ****", "env: ****").doesNotContain(LocalStages.SECRET_VALUE);

    LocalStages.Outcome failed = stages.run(program()
        .run(exec("echo \"leaking $TOKEN\"; exit 4").mount(fileAndEnv))
        .build());
    assertThat(failed.failed().exitCode()).isEqualTo(4);
    assertThat(failed.failed().outputTail()).contains("leaking ****").doesNotContain(LocalStages.SECRET_VALUE);
    assertThat(failed.progress().log()).doesNotContain(LocalStages.SECRET_VALUE);
  }

  @Test
  void aSecretTheBuildDidNotSendFailsTheRunWhenRequiredAndIsAbsentOtherwise() throws Exception {
    dev.stagefarm.program.BuildSecrets sent = stages.secrets;
    stages.secrets = dev.stagefarm.program.BuildSecrets.NONE;
    try {
      aBuildWithoutTheSecret();
    } finally {
      stages.secrets = sent;
    }
  }

  private void aBuildWithoutTheSecret() throws Exception {
    Mount.Secret required = new Mount.Secret("/run/secrets/token", LocalStages.SECRET_ID, "", true,
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    StageFailure failure = stages.run(program().run(exec("cat /run/secrets/token").mount(required)).build()).failed();
    assertThat(failure.message()).startsWith("secret token is required but the build did not send it");
    assertThat(failure.retriable()).isFalse();

    Mount.Secret optional = new Mount.Secret("/run/secrets/token", LocalStages.SECRET_ID, "TOKEN", false,
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    StageState result = stages.run(program()
        .run(exec("test ! -e /run/secrets/token && test -z \"${TOKEN+set}\" && echo absent > /absent").mount(optional))
        .build()).completed();
    assertThat(Files.readString(stages.unpack(result).resolve("absent"))).isEqualTo("absent\n");
  }

  @Test
  void duringTheRunASecretIsOnATmpfsOnlyNeverOnTheWorkersDisk() throws Exception {
    Mount.Secret fileAndEnv = new Mount.Secret("/run/secrets/token", LocalStages.SECRET_ID, "TOKEN", true,
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    java.util.concurrent.CompletableFuture<LocalStages.Outcome> running = java.util.concurrent.CompletableFuture
        .supplyAsync(() -> {
          try {
            return stages.run(program().run(exec("echo started; sleep 10").mount(fileAndEnv)).build());
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
    // while the RUN sleeps (10 s: one walk of the work dir took seconds at load 70, and a 4 s RUN was
    // once over before a walk saw its files): every file under the worker's directory that holds the value (the secret
    // file, the bundle's config.json with TOKEN=) is on a tmpfs
    java.util.Map<Path, String> holders = new java.util.LinkedHashMap<>(); // file → its file system's type
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (holders.isEmpty() && System.nanoTime() < deadline && !running.isDone()) {
      for (Path holder : filesContaining(stages.workDir, LocalStages.SECRET_VALUE)) {
        try {
          holders.put(holder, Files.getFileStore(holder).type());
        } catch (java.nio.file.NoSuchFileException gone) {
          // the RUN ended between finding the file and looking at it (a loaded machine): look again
        }
      }
      Thread.sleep(100);
    }
    assertThat(holders).as("files holding the secret during the RUN").isNotEmpty();
    holders.forEach((holder, type) -> assertThat(type).as(holder.toString()).isEqualTo("tmpfs"));
    running.get().completed();
    assertThat(filesContaining(stages.workDir, LocalStages.SECRET_VALUE)).isEmpty();
  }

  private static List<Path> filesContaining(Path dir, String value) throws IOException {
    List<Path> found = new ArrayList<>();
    byte[] needle = value.getBytes(StandardCharsets.UTF_8);
    Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
      @Override
      public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
        try {
          if (attrs.isRegularFile() && attrs.size() < (8 << 20)
              && java.util.Collections.indexOfSubList(toList(Files.readAllBytes(file)), toList(needle)) >= 0) {
            found.add(file);
          }
        } catch (IOException gone) {
          // removed while we looked
        }
        return java.nio.file.FileVisitResult.CONTINUE;
      }

      @Override
      public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
        return java.nio.file.FileVisitResult.CONTINUE;
      }
    });
    return found;
  }

  private static List<Byte> toList(byte[] bytes) {
    List<Byte> list = new ArrayList<>(bytes.length);
    for (byte b : bytes) {
      list.add(b);
    }
    return list;
  }

  @Test
  void aFailingRunReportsExitCodeAndOutputTailAndIsNotRetried() throws Exception {
    LocalStages.Outcome outcome = stages.run(program()
        .run("echo fine > /fine")
        .run("echo about-to-fail && echo on-stderr >&2 && exit 3")
        .build());
    StageFailure failed = outcome.failed();
    assertThat(failed.exitCode()).isEqualTo(3);
    assertThat(failed.instructionIndex()).isEqualTo(1);
    assertThat(failed.line()).isEqualTo(3);
    assertThat(failed.retriable()).isFalse();
    assertThat(failed.message()).contains("exit code: 3");
    assertThat(failed.outputTail()).contains("about-to-fail").contains("on-stderr");
    assertThat(outcome.progress().log()).contains("about-to-fail");
  }

  @Test
  void bindAndTmpfsMountsAndNetworkNone() throws Exception {
    TestContext context = stages.context(Map.of("conf/app.conf", "setting=1\n"));
    StageState result = stages.run(program()
        .run(exec("cp /mnt/conf/app.conf /copied.conf").mount(
            new Mount.Bind("/mnt/conf", true, new Mount.FromContext(context.select("conf")))))
        .run(exec("echo temp > /scratch/t && cp /scratch/t /from-tmpfs").mount(new Mount.Tmpfs("/scratch", 0)))
        .run(exec("cat /proc/net/dev | grep -c : > /interfaces").network(Action.Network.NONE))
        .build()).completed();
    Path root = stages.unpack(result);
    assertThat(Files.readString(root.resolve("copied.conf"))).isEqualTo("setting=1\n");
    assertThat(Files.readString(root.resolve("from-tmpfs"))).isEqualTo("temp\n");
    assertThat(Files.readString(root.resolve("interfaces")).strip()).isEqualTo("1"); // loopback only
    assertThat(root.resolve("mnt")).doesNotExist();
    assertThat(root.resolve("scratch")).doesNotExist();
  }

  @Test
  void addExtractsALocalTarAndFetchesAUrlWithAChecksum() throws Exception {
    byte[] payload = "downloaded".getBytes(StandardCharsets.UTF_8);
    var server = TestArchives.serve("/files/tool.bin", payload);
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/files/tool.bin";
      TestContext context = stages.contextBytes(Map.of("bundle.tar", TestArchives.tarOf("pkg/readme.txt", "inside the tar")));
      StageState result = stages.run(program()
          .copy(addTo("/opt/").context(context.select("bundle.tar")))
          .copy(addTo("/downloads/").remote(url, Digest.of(payload).toString(), "tool.bin"))
          .build()).completed();
      Path root = stages.unpack(result);
      assertThat(Files.readString(root.resolve("opt/pkg/readme.txt"))).isEqualTo("inside the tar");
      assertThat(Files.readString(root.resolve("downloads/tool.bin"))).isEqualTo("downloaded");

      StageFailure failed = stages.run(program()
          .copy(addTo("/x").remote(url, "sha256:" + "0".repeat(64), "tool.bin")).build()).failed();
      assertThat(failed.message()).contains("checksum mismatch");
      assertThat(failed.retriable()).isFalse();
    } finally {
      server.stop(0);
    }
  }

  @Test
  void addOfAGzipFileThatIsNotATarCopiesItUnchanged() throws Exception {
    byte[] notes = TestArchives.gzip("just some notes\n".getBytes(StandardCharsets.UTF_8));
    TestContext context = stages.contextBytes(Map.of("notes.txt.gz", notes));
    Path root = stages.unpack(stages.run(program().copy(addTo("/x/").context(context.select("notes.txt.gz"))).build())
        .completed());
    assertThat(Files.readAllBytes(root.resolve("x/notes.txt.gz"))).isEqualTo(notes);
  }

  @Test
  void addUnpacksALocalArchiveWithChownButKeepsItsModesAndSkipsNoEntry() throws Exception {
    // BuildKit (solver/llbsolver/file unpack): --chown overrides every entry's owner; --chmod and
    // --exclude do not reach inside an archive, whose modes and mtimes are kept
    byte[] tar = TestArchives.tarOf(Map.of("pkg/bin/tool", "tool", "pkg/debug.log", "log"), 4242, 0700);
    TestContext context = stages.contextBytes(Map.of("bundle.tar", tar));
    StageState result = stages.run(program()
        .copy(addTo("/etc/").context(context.select("bundle.tar")).chown("app:app").chmod(0644).exclude("*.log"))
        .copy(addTo("/as-is/").context(context.select("bundle.tar")))
        .build()).completed();
    Path root = stages.unpack(result);
    Path tool = root.resolve("etc/pkg/bin/tool");
    assertThat(Files.readString(tool)).isEqualTo("tool");
    assertThat(owner(tool)).containsExactly(1000, 1000);
    // pkg/bin has no entry of its own: go-archive's createImpliedDirectories makes it 0755, owned by
    // the root pair (0:0), not by --chown (go-archive archive.go:createImpliedDirectories)
    assertThat(owner(root.resolve("etc/pkg/bin"))).containsExactly(0, 0);
    assertThat(mode(tool)).isEqualTo(0700);
    assertThat(Files.readString(root.resolve("etc/pkg/debug.log"))).isEqualTo("log");
    assertThat(owner(root.resolve("etc/passwd"))).containsExactly(0, 0); // files already there are not re-owned
    assertThat(owner(root.resolve("as-is/pkg/bin/tool")).get(0)).isEqualTo(4242);
  }

  @Test
  void addUnpacksADownloadedArchiveOnlyWithUnpackTrue() throws Exception {
    byte[] archive = TestArchives.gzip(TestArchives.tarOf(Map.of("pkg/readme.txt", "remote tar"), 0, 0644));
    var server = TestArchives.serve("/files/bundle.tar.gz", archive);
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/files/bundle.tar.gz";
      StageState result = stages.run(program()
          .copy(addTo("/unpacked/").remote(url, "", "bundle.tar.gz").unpack(Action.Unpack.ALL).chown("app:app"))
          .copy(addTo("/plain/").remote(url, "", "bundle.tar.gz"))
          .build()).completed();
      Path root = stages.unpack(result);
      Path readme = root.resolve("unpacked/pkg/readme.txt");
      assertThat(Files.readString(readme)).isEqualTo("remote tar");
      assertThat(owner(readme)).containsExactly(1000, 1000);
      assertThat(root.resolve("unpacked/bundle.tar.gz")).doesNotExist();
      assertThat(Files.readAllBytes(root.resolve("plain/bundle.tar.gz"))).isEqualTo(archive);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void runsAsUserInItsWorkingDirWithItsEnv() throws Exception {
    StageState result = stages.run(program()
        .workdir("/home/app/work", "app")
        .run(exec("id -u > uid.txt && pwd > pwd.txt && echo \"$FROM_ARG $FROM_ENV $HOME\" > vars.txt")
            .user("app").cwd("/home/app/work").env("FROM_ARG=overridden").env("FROM_ENV=env-value"))
        .build()).completed();
    Path work = stages.unpack(result).resolve("home/app/work");
    assertThat(Files.readString(work.resolve("uid.txt"))).isEqualTo("1000\n");
    assertThat(Files.readString(work.resolve("pwd.txt"))).isEqualTo("/home/app/work\n");
    assertThat(Files.readString(work.resolve("vars.txt"))).isEqualTo("overridden env-value /home/app\n");
    assertThat(owner(work).get(0)).isEqualTo(1000);
  }

  @Test
  void opsWhoseKeyIsRecordedAreTakenFromTheCache() throws Exception {
    CacheKey root = ProgramBuilder.randomKey();
    StageProgram first = program().rootKey(root)
        .run("echo executing-step-one && echo one > /one.txt")
        .env("STEP", "two")
        .run("echo two > /two.txt")
        .build();
    StageState a = stages.run(first).completed();
    // the same first two ops (same keys), another third one
    StageProgram second = program().rootKey(root)
        .run("echo executing-step-one && echo one > /one.txt")
        .env("STEP", "two")
        .run("echo changed > /two.txt")
        .build();
    LocalStages.Outcome outcome = stages.run(second, stages.busybox, Map.of(), true);
    StageState b = outcome.completed();
    assertThat(outcome.progress().cached).containsExactly(true, true, false);
    assertThat(outcome.progress().log()).doesNotContain("executing-step-one");
    assertThat(newLayers(stages.busybox, b).get(0)).isEqualTo(newLayers(stages.busybox, a).get(0));
    Path files = stages.unpack(b);
    assertThat(Files.readString(files.resolve("one.txt"))).isEqualTo("one\n");
    assertThat(Files.readString(files.resolve("two.txt"))).isEqualTo("changed\n");
    assertThat(b.config().config().envValue("STEP")).contains("two");
    assertThat(b.config().diffIds()).hasSize(b.layers().size());

    // without the opt-in (a --no-cache build) every op runs again
    LocalStages.Outcome again = stages.run(second, stages.busybox, Map.of(), false);
    again.completed();
    assertThat(again.progress().cached).containsExactly(false, false, false);
  }

  @Test
  void anInsecureRunFailsWhenTheWorkerDoesNotAllowIt() throws Exception {
    StageFailure failure = stages.run(program()
        .run("echo fine > /fine")
        .run(exec("touch /should-not-run").insecure())
        .build()).failed();
    assertThat(failure.message()).contains("--security=insecure is not allowed on this farm");
    assertThat(failure.line()).isEqualTo(3);
    assertThat(failure.retriable()).isFalse();
  }

  @Test
  void leavesNoMountsOrContainersBehind() throws Exception {
    TestContext context = stages.context(Map.of("f", "f"));
    stages.run(program().run("true").copy(copyTo("/f").context(context.select("f"))).build()).completed();
    stages.run(program().run("exit 1").build()).failed();
    String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
    assertThat(mounts).doesNotContain(stages.workDir.resolve("work/stages").toString());
    assertThat(Files.list(stages.workDir.resolve("work/stages")).toList()).isEmpty();
    Process list = new ProcessBuilder("runc", "--root", stages.workDir.resolve("work/runc").toString(), "list", "-q")
        .start();
    assertThat(new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()).isEmpty();
    assertThat(list.waitFor()).isZero();
  }

  private static List<Integer> owner(Path p) throws Exception {
    return List.of((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
        (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
  }

  private static int mode(Path p) throws Exception {
    return (Integer) Files.getAttribute(p, "unix:mode") & 07777;
  }
}
