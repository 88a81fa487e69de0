package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.copyTo;
import static dev.stagefarm.worker.ProgramBuilder.inputId;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.testkit.TempDirectories;
import dev.stagefarm.worker.TestContext;
import dev.stagefarm.worker.store.LayerRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * COPY and WORKDIR write into a fresh upper dir over the stage's lower layers, with no mount, and
 * COPY --from reads the source stage's layers in the host's store: what overlayfs would have shown
 * (symlinked directories of a lower layer, files a later RUN deleted, opaque directories, file
 * capabilities a RUN kept) must come out the same. Run for real (runc, overlayfs for the RUNs).
 */
class LayeredCopyTest {
  private static LocalStages stages;

  @BeforeAll
  static void start() throws Exception {
    stages = new LocalStages();
  }

  @Test
  void copyThroughADirectorySymlinkOfALowerLayerWritesIntoItsTarget() throws Exception {
    StageState result = stages.run(program()
        .run("mkdir -p /real && echo old > /real/kept && ln -s /real /link && ln -s ../real /rel")
        .copy(copyTo("/link/").inline("new", "via absolute link\n"))
        .copy(copyTo("/rel/deeper/").inline("more", "via relative link\n"))
        .build()).completed();
    Path root = stages.unpack(result);
    assertThat(Files.isSymbolicLink(root.resolve("link"))).isTrue();
    assertThat(root.resolve("real/new")).hasContent("via absolute link");
    assertThat(root.resolve("real/deeper/more")).hasContent("via relative link");
    assertThat(root.resolve("real/kept")).hasContent("old");
    List<LayerRef> layers = LocalStages.newLayers(stages.busybox, result);
    // the COPY's layer holds the copied-up directory and the new file, not the lower layer's others
    assertThat(stages.layerEntries(layers.get(1)).keySet()).containsExactly("real/", "real/new");
    assertThat(stages.layerEntries(layers.get(2)).keySet())
        .containsExactly("real/", "real/deeper/", "real/deeper/more");
  }

  @Test
  void aCopiedUpDirectoryKeepsItsOwnerAndMode() throws Exception {
    StageState result = stages.run(program()
        .run("mkdir -p /srv/data && chown 1234:4321 /srv/data && chmod 0750 /srv/data")
        .copy(copyTo("/srv/data/").inline("f", "x"))
        .build()).completed();
    Map<String, String> headers = stages.layerHeaders(LocalStages.newLayers(stages.busybox, result).get(1),
        Set.of("srv/data/", "srv/", "srv/data/f"));
    assertThat(headers.get("srv/data/")).startsWith(0750 + " 1234:4321 ");
  }

  @Test
  void aFileCopiedOverALowerLayersFileHidesIt() throws Exception {
    StageState result = stages.run(program()
        .run("echo old > /f")
        .copy(copyTo("/f").inline("f", "new\n"))
        .build()).completed();
    assertThat(stages.unpack(result).resolve("f")).hasContent("new");
    assertThat(stages.layerEntries(LocalStages.newLayers(stages.busybox, result).get(1)).keySet())
        .containsExactly("f");
  }

  @Test
  void aFileCopiedOntoALowerLayersSymlinkWritesItsTargetInsideTheRoot() throws Exception {
    // BuildKit resolves the destination with fs.RootPath: a symlink there is followed, inside the root
    StageState result = stages.run(program()
        .run("mkdir -p /etc/app && echo old > /etc/app/conf && ln -s /etc/app/conf /l")
        .copy(copyTo("/l").inline("l", "through the link\n"))
        .build()).completed();
    Path root = stages.unpack(result);
    assertThat(Files.isSymbolicLink(root.resolve("l"))).isTrue();
    assertThat(root.resolve("etc/app/conf")).hasContent("through the link");
    assertThat(stages.layerEntries(LocalStages.newLayers(stages.busybox, result).get(1)).keySet())
        .containsExactly("etc/", "etc/app/", "etc/app/conf");
  }

  @Test
  void aDirectoryCopiedOntoALowerLayersFileIsTheBuildsError() throws Exception {
    TestContext context = stages.context(Map.of("d/x", "x"));
    assertThat(stages.run(program()
        .run("echo file > /f")
        .copy(copyTo("/f").context(context.select("d")))
        .build()).failed().message()).contains("cannot copy a directory onto the file /f");
    assertThat(stages.run(program()
        .run("echo file > /f")
        .copy(copyTo("/f/below/").inline("x", "x"))
        .build()).failed().message()).contains("/f is not a directory");
  }

  @Test
  void workdirBelowALowerLayersSymlinkedDirectoryIsMadeInItsTarget() throws Exception {
    StageState result = stages.run(program()
        .run("mkdir /real && ln -s /real /link")
        .workdir("/link/app", "")
        .build()).completed();
    Path root = stages.unpack(result);
    assertThat(root.resolve("real/app")).isDirectory();
    assertThat(stages.layerEntries(LocalStages.newLayers(stages.busybox, result).get(1)).keySet())
        .containsExactly("real/", "real/app/");
  }

  @Test
  void copyFromAStageSeesWhatItsLaterRunDeletedAsGone() throws Exception {
    StageState source = stages.run(program()
        .run("mkdir /d && echo x > /d/x && echo old > /d/old && echo gone > /gone")
        .run("rm /gone /d/old && echo y > /d/y")
        .build()).completed();
    String id = inputId("0-src");
    assertThat(stages.run(program().input("0-src", "src").copy(copyTo("/x").from(id, "/gone")).build(),
        stages.busybox, Map.of(id, source), false).failed().message()).contains("\"/gone\" not found in --from src");
    Path root = stages.unpack(stages.run(program().input("0-src", "src").copy(copyTo("/dst/").from(id, "/d")).build(),
        stages.busybox, Map.of(id, source), false).completed());
    try (var names = Files.list(root.resolve("dst"))) {
      assertThat(names.map(p -> p.getFileName().toString()).sorted()).containsExactly("x", "y");
    }
  }

  @Test
  void copyFromAnOpaqueDirectoryReadsOnlyItsOwnLayer() throws Exception {
    StageState source = stages.run(program()
        .run("mkdir /d && echo x > /d/x")
        .run("rm -r /d && mkdir /d && echo y > /d/y && ln -s /d/y /d/link")
        .build()).completed();
    String id = inputId("0-src");
    Path root = stages.unpack(stages.run(program().input("0-src", "src")
        .copy(copyTo("/dst/").from(id, "/d"))
        .copy(copyTo("/viaLink").from(id, "/d/link"))
        .build(), stages.busybox, Map.of(id, source), false).completed());
    try (var names = Files.list(root.resolve("dst"))) {
      assertThat(names.map(p -> p.getFileName().toString()).sorted()).containsExactly("link", "y");
    }
    assertThat(root.resolve("viaLink")).hasContent("y");
  }

  @Test
  void aFileCapabilityARunKeptSurvivesTheSnapshotAndACopyFromIt() throws Exception {
    Path tree = TempDirectories.createDeletedAtExit("stagefarm-setcap-");
    Path tool = Files.createDirectories(tree.resolve("bin")).resolve("pinger");
    Files.writeString(tool, "a tool with cap_net_raw\n");
    new ProcessBuilder("setcap", "cap_net_raw+ep", tool.toString()).inheritIO().start().waitFor();
    StageState withCap = stages.withLayer(stages.busybox, tree);
    // the RUN's rename copies the file up with its xattrs: its snapshot reads them from the upper dir
    StageState moved = stages.run(program().run("mv /bin/pinger /bin/moved").build(), withCap, Map.of(), false)
        .completed();
    Path runLayer = stages.unpack(moved);
    assertThat(getcap(runLayer.resolve("bin/moved"))).contains("cap_net_raw");
    String id = inputId("0-moved");
    Path root = stages.unpack(stages.run(program().input("0-moved", "moved")
        .copy(copyTo("/usr/bin/").from(id, "/bin/moved"))
        .build(), stages.busybox, Map.of(id, moved), false).completed());
    assertThat(getcap(root.resolve("usr/bin/moved"))).contains("cap_net_raw");
  }

  private static String getcap(Path file) throws Exception {
    Process p = new ProcessBuilder("getcap", file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
