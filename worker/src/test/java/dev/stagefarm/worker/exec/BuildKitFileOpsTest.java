package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.addTo;
import static dev.stagefarm.worker.ProgramBuilder.copyTo;
import static dev.stagefarm.worker.ProgramBuilder.inputId;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.luben.zstd.ZstdOutputStream;
import dev.stagefarm.testkit.TempDirectories;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.store.LayerRef;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The worker's file operations where BuildKit's behaviour is specific, each expectation taken from
 * BuildKit's own integration test or code (cited per test), run for real (runc, overlayfs).
 */
class BuildKitFileOpsTest {
  private static LocalStages stages;

  @BeforeAll
  static void start() throws Exception {
    stages = new LocalStages();
  }

  @Test
  void fileCapabilitiesSurviveCopyFromWithAndWithoutChown() throws Exception {
    // fsutil copy.go:copy sets owner, mode and times, then copyXAttrs; chown would clear them
    Path tree = TempDirectories.createDeletedAtExit("stagefarm-setcap-");
    Path tool = Files.createDirectories(tree.resolve("bin")).resolve("pinger");
    Files.writeString(tool, "a tool with cap_net_raw\n");
    new ProcessBuilder("setcap", "cap_net_raw+ep", tool.toString()).inheritIO().start().waitFor();
    assertThat(getcap(tool)).contains("cap_net_raw");
    StageState withCap = stages.withLayer(stages.busybox, tree);
    String id = inputId("0-build");
    Path root = stages.unpack(stages.run(program().input("0-build", "build")
        .copy(copyTo("/usr/bin/").from(id, "/bin/pinger"))
        .copy(copyTo("/owned/").from(id, "/bin/pinger").chown("1000:1000"))
        .build(), stages.busybox, Map.of(id, withCap), false).completed());
    assertThat(getcap(root.resolve("usr/bin/pinger"))).contains("cap_net_raw");
    assertThat(getcap(root.resolve("owned/pinger"))).contains("cap_net_raw");
  }

  @Test
  void chmodAppliesToTheParentsTheCopyCreates() throws Exception {
    // dockerfile_copy_test.go:testCopyChmod: COPY --chmod=777 foo /parent/foo makes /parent 0777
    var context = stages.context(Map.of("foo", "f"));
    Path root = stages.unpack(stages.run(program()
        .copy(copyTo("/parent/foo").context(context.select("foo")).chmod(0777))
        .copy(copyTo("/parent/sub/foo").context(context.select("foo")).chmod(0770))
        .build()).completed());
    assertThat(mode(root.resolve("parent"))).isEqualTo(0777);
    assertThat(mode(root.resolve("parent/sub"))).isEqualTo(0770);
    assertThat(mode(root.resolve("parent/sub/foo"))).isEqualTo(0770);
  }

  @Test
  void anExistingDirectoryKeepsItsOwnerAndModeWhenACopyMergesIntoIt() throws Exception {
    // dockerfile_copy_test.go:testCopyChownExistingDir; fsutil copyDirectoryOnly copies metadata only when it creates
    var context = stages.context(Map.of("tree/etc/app.conf", "conf"));
    Path root = stages.unpack(stages.run(program()
        .copy(copyTo("/").context(context.select("tree")).chown("1000:1000").chmod(0600))
        .build()).completed());
    assertThat(owner(root.resolve("etc/app.conf"))).containsExactly(1000, 1000);
    assertThat(mode(root.resolve("etc/app.conf"))).isEqualTo(0600);
    assertThat(owner(root.resolve("etc"))).containsExactly(0, 0);
    assertThat(mode(root.resolve("etc"))).isEqualTo(0755);
  }

  @Test
  void workdirIsOwnedAsBuildKitsReadUserResolvesTheUser() throws Exception {
    // convert.go:dispatchWorkdir Mkdir(..., WithUser(user)); ops/user_linux.go:readUser: a uid
    // alone is also the gid, an unknown name is root, an unknown group keeps the user's gid
    Path root = stages.unpack(stages.run(program()
        .workdir("/w/numeric", "1234")
        .workdir("/w/unknown", "nobody-here")
        .workdir("/w/badgroup", "app:no-such-group")
        .workdir("/w/named", "app")
        .build()).completed());
    assertThat(owner(root.resolve("w/numeric"))).containsExactly(1234, 1234);
    assertThat(owner(root.resolve("w/unknown"))).containsExactly(0, 0);
    assertThat(owner(root.resolve("w/badgroup"))).containsExactly(1000, 1000);
    assertThat(owner(root.resolve("w/named"))).containsExactly(1000, 1000);
  }

  @Test
  void hardLinksWithinOneCopyStayHardLinks() throws Exception {
    // fsutil copy.go:copy → getLinkSource: a file whose inode was copied before becomes a link to that copy
    StageState build = stages.run(program().run("mkdir -p /out && echo same > /out/a && ln /out/a /out/b").build())
        .completed();
    String id = inputId("0-build");
    Path root = stages.unpack(stages.run(program().input("0-build", "build")
        .copy(copyTo("/copied/").from(id, "/out"))
        .build(), stages.busybox, Map.of(id, build), false).completed());
    assertThat(Files.isSameFile(root.resolve("copied/a"), root.resolve("copied/b"))).isTrue();
  }

  @Test
  void addUnpacksThroughAnAbsoluteSymlinkOfTheRootfsAndKeepsHardLinks() throws Exception {
    // dockerfile_add_test.go:testDockerfileAddArchiveThroughAbsoluteSymlink (var/run -> /run)
    byte[] payload = tar(List.of(dir("var/run/act/"), dir("var/run/act/actions/"), dir("var/run/act/actions/broad/"),
        dir("var/run/act/actions/broad/.git/"), file("var/run/act/actions/broad/.git/HEAD", "ref: refs/heads/main\n"),
        link("var/run/act/actions/broad/.git/HEAD.link", "var/run/act/actions/broad/.git/HEAD")));
    var context = stages.contextBytes(Map.of("payload.tar", payload));
    Path root = stages.unpack(stages.run(program()
        .run("rm -rf /var/run /run && mkdir -p /var /run && ln -s /run /var/run")
        .copy(addTo("/").context(context.select("payload.tar")))
        .build()).completed());
    Path head = root.resolve("run/act/actions/broad/.git/HEAD");
    assertThat(head).hasContent("ref: refs/heads/main\n");
    assertThat(Files.isSameFile(head, root.resolve("run/act/actions/broad/.git/HEAD.link"))).isTrue();
    assertThat(Files.isSymbolicLink(root.resolve("var/run"))).isTrue();
  }

  @Test
  void addUnpacksIntoAMergedUsrLayoutAndAnExplicitDirectoryEntryReplacesASymlink() throws Exception {
    // review A1: lib -> usr/lib (Debian 12) with an implied lib/ parent goes through the link;
    // go-archive Unpack removes a non-directory where a directory entry lands (archive.go, "If path exits …")
    byte[] payload = tar(List.of(file("lib/x86_64/libfoo.so", "elf"), dir("opt/"), file("opt/tool", "t")));
    var context = stages.contextBytes(Map.of("payload.tar", payload));
    Path root = stages.unpack(stages.run(program()
        .run("mkdir -p /usr/lib /elsewhere && ln -s usr/lib /lib && ln -s /elsewhere /opt")
        .copy(addTo("/").context(context.select("payload.tar")))
        .build()).completed());
    assertThat(root.resolve("usr/lib/x86_64/libfoo.so")).hasContent("elf");
    assertThat(Files.isSymbolicLink(root.resolve("lib"))).isTrue();
    assertThat(Files.isDirectory(root.resolve("opt"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    assertThat(root.resolve("opt/tool")).hasContent("t");
    assertThat(root.resolve("elsewhere/tool")).doesNotExist();
  }

  @Test
  void addUnpacksAZstdArchive() throws Exception {
    // unpack.go:isArchivePath → go-archive compression.DecompressStream, which detects zstd
    var bytes = new ByteArrayOutputStream();
    try (var out = new ZstdOutputStream(bytes)) {
      out.write(TestArchives.tarOf("pkg/readme.txt", "zstd inside"));
    }
    var context = stages.contextBytes(Map.of("bundle.tar.zst", bytes.toByteArray()));
    Path root = stages.unpack(stages.run(program().copy(addTo("/z/").context(context.select("bundle.tar.zst"))).build())
        .completed());
    assertThat(root.resolve("z/pkg/readme.txt")).hasContent("zstd inside");
  }

  @Test
  void addOfAUrlTakesItsMtimeFromLastModifiedElseTheEpoch() throws Exception {
    // source/http/source.go: Last-Modified when the server sends one, else 0 (dockerfile_add_test.go:testDockerfileADDFromURL)
    var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    byte[] body = "dated".getBytes(StandardCharsets.UTF_8);
    server.createContext("/dated", exchange -> {
      exchange.getResponseHeaders().add("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.createContext("/undated", exchange -> {
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      String base = "http://127.0.0.1:" + server.getAddress().getPort();
      var result = stages.run(program()
          .copy(addTo("/d/").remote(base + "/dated", "", "dated"))
          .copy(addTo("/d/").remote(base + "/undated", "", "undated"))
          .build()).completed();
      Map<String, TarArchiveEntry> headers = layerHeaders(LocalStages.newLayers(stages.busybox, result));
      assertThat(headers.get("d/dated").getLastModifiedTime())
          .isEqualTo(FileTime.from(java.time.Instant.parse("2015-10-21T07:28:00Z")));
      assertThat(headers.get("d/undated").getLastModifiedTime()).isEqualTo(FileTime.fromMillis(0));
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aDownloadOverTheWorkersLimitFailsTheStageNamingTheLimit() throws Exception {
    LocalStages limited = new LocalStages(false, 1000);
    var server = TestArchives.serve("/big", new byte[5000]);
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/big";
      StageFailure failure = limited.run(program().copy(addTo("/x/").remote(url, "", "big")).build()).failed();
      assertThat(failure.message()).contains("add-url-max-size").contains("1000 bytes");
      assertThat(failure.retriable()).isFalse();
    } finally {
      server.stop(0);
      limited.close();
    }
  }

  /** The busybox base plus one layer made from {@code tree} on the host (xattrs kept). */
  private static Map<String, TarArchiveEntry> layerHeaders(List<LayerRef> layers) throws Exception {
    Map<String, TarArchiveEntry> headers = new java.util.TreeMap<>();
    for (LayerRef layer : layers) {
      try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
          new org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream(
              new java.io.ByteArrayInputStream(stages.store.blob(layer.blob().digest()))))) {
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) {
          headers.put(e.getName(), e);
        }
      }
    }
    return headers;
  }

  private static String getcap(Path file) throws Exception {
    Process p = new ProcessBuilder("getcap", file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  private static HostileFileOpsTest.Entry dir(String name) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_DIR);
    e.setMode(040755);
    return new HostileFileOpsTest.Entry(e, new byte[0]);
  }

  private static HostileFileOpsTest.Entry file(String name, String content) {
    TarArchiveEntry e = new TarArchiveEntry(name);
    byte[] data = content.getBytes(StandardCharsets.UTF_8);
    e.setSize(data.length);
    e.setMode(0100644);
    return new HostileFileOpsTest.Entry(e, data);
  }

  private static HostileFileOpsTest.Entry link(String name, String target) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
    e.setLinkName(target);
    return new HostileFileOpsTest.Entry(e, new byte[0]);
  }

  private static byte[] tar(List<HostileFileOpsTest.Entry> entries) throws Exception {
    return HostileFileOpsTest.tar(entries);
  }

  private static int mode(Path p) throws Exception {
    return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
  }

  private static List<Integer> owner(Path p) throws Exception {
    return List.of((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
        (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
  }
}
