package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.addTo;
import static dev.stagefarm.worker.ProgramBuilder.copyTo;
import static dev.stagefarm.worker.ProgramBuilder.exec;
import static dev.stagefarm.worker.ProgramBuilder.inputId;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.Mount;
import dev.stagefarm.testkit.TempDirectories;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.TestContext;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile Dockerfiles against the worker's file operations, performed for real (runc, overlayfs):
 * an earlier RUN plants a symlink to a path of the worker HOST, then COPY, ADD, a heredoc or
 * WORKDIR writes through it. The overlay's merged dir is on the host, so an absolute symlink
 * followed by the worker (not by a process inside the container) would resolve on the host.
 * Each test checks the host directory stays empty (no file, no setuid bit), that the write lands
 * inside the rootfs where BuildKit puts it (its copy resolves paths with the rootfs as {@code /}),
 * and that a normal build right after succeeds.
 */
class HostileFileOpsTest {
  private static LocalStages stages;
  private Path host;
  private Path hostFile;

  @BeforeAll
  static void start() throws Exception {
    stages = new LocalStages();
  }

  @BeforeEach
  void hostTarget() throws Exception {
    // outside the worker's work dir: what a hostile build must never reach
    host = TempDirectories.createDeletedAtExit("stagefarm-host-target-");
    hostFile = TempDirectories.createDeletedAtExit("stagefarm-host-file-").resolve("victim");
    Files.writeString(hostFile, "host content\n");
    Files.setPosixFilePermissions(hostFile, PosixFilePermissions.fromString("rw-r--r--"));
  }

  @AfterEach
  void hostIsUntouchedAndTheWorkerStillBuilds() throws Exception {
    try (Stream<Path> entries = Files.list(host)) {
      assertThat(entries.toList()).as("files the build wrote on the worker host").isEmpty();
    }
    assertThat(Files.readString(hostFile)).isEqualTo("host content\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(hostFile))).isEqualTo("rw-r--r--");
    TestContext context = stages.context(Map.of("ok.txt", "fine"));
    Path root = stages.unpack(stages.run(program().copy(copyTo("/ok/").context(context.select("ok.txt")))
        .run("test -f /ok/ok.txt").build()).completed());
    assertThat(root.resolve("ok/ok.txt")).hasContent("fine");
  }

  /** Where a path of the host target lands inside an unpacked image. */
  private Path inImage(Path root, Path hostPath) {
    return root.resolve(hostPath.toString().substring(1));
  }

  @Test
  void aHeredocWithSetuidThroughADirectorySymlinkedToTheHostStaysInTheRootfs() throws Exception {
    Path root = stages.unpack(stages.run(program()
        .run("ln -s " + host + " /x")
        .copy(copyTo("/x/pwned").inline("EOF", "owned\n").chmod(04755))
        .build()).completed());
    Path landed = inImage(root, host.resolve("pwned"));
    assertThat(landed).hasContent("owned\n");
    assertThat(mode(landed)).isEqualTo(04755);
  }

  @Test
  void aRelativeSymlinkClimbingAboveTheRootIsClampedAtIt() throws Exception {
    Path root = stages.unpack(stages.run(program()
        .run("ln -s ../../../../../../../../../.." + host + " /rel")
        .copy(copyTo("/rel/").inline("pwned", "owned\n").chmod(04755))
        .build()).completed());
    assertThat(inImage(root, host.resolve("pwned"))).hasContent("owned\n");
  }

  @Test
  void copyOntoASymlinkToAHostFileNeverWritesOrChmodsTheHostFile() throws Exception {
    TestContext context = stages.context(Map.of("a.txt", "from context\n"));
    Path root = stages.unpack(stages.run(program()
        .run("ln -s " + hostFile + " /f && ln -s " + hostFile + " /g")
        .copy(copyTo("/f").context(context.select("a.txt")).chmod(04755))
        .copy(copyTo("/g").inline("EOF", "inline\n").chmod(04755).chown("1000:1000"))
        .build()).completed());
    // as BuildKit: the destination resolves inside the rootfs, final symlink included
    assertThat(inImage(root, hostFile)).hasContent("inline\n");
  }

  @Test
  void copyOfAContextDirectoryIntoAHostSymlinkStaysInTheRootfs() throws Exception {
    TestContext context = stages.context(Map.of("tree/a.txt", "A", "tree/sub/b.txt", "B"));
    Path root = stages.unpack(stages.run(program()
        .run("ln -s " + host + " /x")
        .copy(copyTo("/x/").context(context.select("tree")).chmod(04755))
        .build()).completed());
    assertThat(inImage(root, host.resolve("sub/b.txt"))).hasContent("B");
  }

  @Test
  void aChildOfTheDestinationThatIsASymlinkToTheHostIsNeverFollowed() throws Exception {
    // fsutil copy: a directory onto a symlink is "cannot copy to non-directory", a file replaces the link
    TestContext context = stages.context(Map.of("tree/sub/b.txt", "B", "tree/f", "F"));
    StageFailure failure = stages.run(program()
        .run("mkdir /app && ln -s " + host + " /app/sub && ln -s " + hostFile + " /app/f")
        .copy(copyTo("/app/").context(context.select("tree")))
        .build()).failed();
    assertThat(failure.message()).contains("/app/sub");
    assertThat(failure.retriable()).isFalse();
    Path root = stages.unpack(stages.run(program()
        .run("mkdir /app && ln -s " + hostFile + " /app/f")
        .copy(copyTo("/app/").context(stages.context(Map.of("t/f", "F")).select("t")).chmod(04755))
        .build()).completed());
    assertThat(root.resolve("app/f")).hasContent("F");
    assertThat(Files.isSymbolicLink(root.resolve("app/f"))).isFalse();
  }

  @Test
  void copyFromAnotherStageIntoAHostSymlinkStaysInTheRootfs() throws Exception {
    var build = stages.run(program().run("mkdir -p /out/d && echo x > /out/d/x && chmod 4755 /out/d/x").build())
        .completed();
    Path root = stages.unpack(stages.run(program().input("0-build", "build")
        .run("ln -s " + host + " /x")
        .copy(copyTo("/x/").from(inputId("0-build"), "/out"))
        .build(), stages.busybox, Map.of(inputId("0-build"), build), false).completed());
    assertThat(inImage(root, host.resolve("d/x"))).hasContent("x\n");
  }

  @Test
  void workdirThroughAHostSymlinkIsMadeInTheRootfs() throws Exception {
    Path root = stages.unpack(stages.run(program()
        .run("ln -s " + host + " /x")
        .workdir("/x/work/dir", "app")
        .build()).completed());
    assertThat(inImage(root, host.resolve("work/dir"))).isDirectory();
  }

  @Test
  void addOfAUrlIntoAHostSymlinkStaysInTheRootfs() throws Exception {
    var server = TestArchives.serve("/files/tool", "downloaded".getBytes(StandardCharsets.UTF_8));
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/files/tool";
      Path root = stages.unpack(stages.run(program()
          .run("ln -s " + host + " /x")
          .copy(addTo("/x/").remote(url, "", "tool").chmod(04755))
          .build()).completed());
      assertThat(inImage(root, host.resolve("tool"))).hasContent("downloaded");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void addOfALocalArchiveIntoAHostSymlinkStaysInTheRootfs() throws Exception {
    byte[] tar = TestArchives.tarOf(Map.of("pkg/tool", "tool"), 0, 04755);
    Path root = stages.unpack(stages.run(program()
        .run("ln -s " + host + " /x")
        .copy(addTo("/x/").context(stages.contextBytes(Map.of("a.tar", tar)).select("a.tar")))
        .build()).completed());
    assertThat(inImage(root, host.resolve("pkg/tool"))).hasContent("tool");
  }

  @Test
  void addOfALocalArchiveBelowANestedHostSymlinkStaysInTheRootfs() throws Exception {
    // the archive's implied parent pkg/ goes through the symlink, resolved as BuildKit's
    // chrootarchive.Untar(dest) does: chrooted at the destination, so /opt is "/" for the link
    byte[] tar = TestArchives.tarOf(Map.of("pkg/tool", "tool"), 0, 04755);
    Path root = stages.unpack(stages.run(program()
        .run("mkdir /opt && ln -s " + host + " /opt/pkg")
        .copy(addTo("/opt/").context(stages.contextBytes(Map.of("a.tar", tar)).select("a.tar")))
        .build()).completed());
    assertThat(inImage(root.resolve("opt"), host.resolve("tool"))).hasContent("tool");
  }

  @Test
  void aSymlinkLoopInTheDestinationIsTheBuildsErrorNotTheWorkers() throws Exception {
    StageFailure failure = stages.run(program()
        .run("ln -s /loop-b /loop-a && ln -s /loop-a /loop-b")
        .copy(copyTo("/loop-a/f").inline("EOF", "x"))
        .build()).failed();
    assertThat(failure.retriable()).isFalse();
    assertThat(failure.message()).contains("too many levels of symbolic links");
  }

  @Test
  void anArchiveThatWritesThroughItsOwnAbsoluteSymlinkStaysInTheDestination() throws Exception {
    // a symlink entry to a host path, then a file "through" it, as in the classic tar attacks;
    // BuildKit unpacks chrooted at the destination (chrootarchive.Untar), so the link resolves below it
    byte[] tar = tar(List.of(symlink("escape", host.toString()), file("escape/pwned", "owned", 04755)));
    Path root = stages.unpack(stages.run(program()
        .copy(addTo("/opt/").context(stages.contextBytes(Map.of("evil.tar", tar)).select("evil.tar")))
        .build()).completed());
    assertThat(inImage(root.resolve("opt"), host.resolve("pwned"))).hasContent("owned");
    assertThat(Files.readSymbolicLink(root.resolve("opt/escape"))).isEqualTo(host);
  }

  @Test
  void anArchiveSymlinkClimbingOutOfTheDestinationIsRefused() throws Exception {
    // go-archive createTarFile: "invalid symlink" when the target joined to the link's dir leaves the root
    byte[] tar = tar(List.of(symlink("a/up", "../../../../../../../.." + host), file("a/up/pwned", "owned", 0644)));
    StageFailure failure = stages.run(program()
        .copy(addTo("/opt/").context(stages.contextBytes(Map.of("evil.tar", tar)).select("evil.tar")))
        .build()).failed();
    assertThat(failure.retriable()).isFalse();
    assertThat(failure.message()).contains("a/up").contains("outside the destination");
  }

  @Test
  void anArchiveEntryClimbingOutOfTheRootIsRefused() throws Exception {
    byte[] tar = tar(List.of(file("../../../../../../../.." + host + "/pwned", "owned", 0644)));
    StageFailure failure = stages.run(program()
        .copy(addTo("/opt/").context(stages.contextBytes(Map.of("evil.tar", tar)).select("evil.tar")))
        .build()).failed();
    assertThat(failure.retriable()).isFalse();
    assertThat(failure.message()).contains("pwned");
  }

  @Test
  void runMountTargetsBelowAHostSymlinkAreMadeInTheRootfs() throws Exception {
    // runc makes missing mount points itself, resolving them inside the rootfs (securejoin): the
    // tmpfs, the cache and the inline files land below the rootfs' /x, never in the host dir
    Mount.Tmpfs tmpfs = new Mount.Tmpfs("/x/tmp", 0);
    Mount.Cache cache = new Mount.Cache("/x/cache", false, "hostile-target", Mount.Sharing.SHARED, Optional.empty(),
        OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
    Mount.Inline inline = new Mount.Inline("/x/pipes",
        List.of(new CopySource.Inline("script", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8))), 0755);
    Path root = stages.unpack(stages.run(program()
        .run("ln -s " + host + " /x")
        .run(exec("echo t > /x/tmp/t && echo c > /x/cache/c && test -f /x/pipes/script && echo ran > /ran")
            .mount(tmpfs).mount(cache).mount(inline))
        .build()).completed());
    assertThat(root.resolve("ran")).hasContent("ran\n");
  }

  @Test
  void aMountTargetBelowASymlinkToAHostFileIsMadeInTheRootfsNotOverTheHostFile() throws Exception {
    Mount.Tmpfs tmpfs = new Mount.Tmpfs("/victim/dir", 0);
    Path root = stages.unpack(stages.run(program()
        .run("ln -s " + hostFile + " /victim")
        .run(exec("echo in-tmpfs > /victim/dir/x && cat /victim/dir/x > /seen").mount(tmpfs))
        .build()).completed());
    assertThat(root.resolve("seen")).hasContent("in-tmpfs\n");
    // the link's target, resolved in the rootfs, got the mount point; it is no part of the layer
    assertThat(inImage(root, hostFile.resolve("dir"))).doesNotExist();
  }

  private static Entry symlink(String name, String target) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
    e.setLinkName(target);
    return new Entry(e, new byte[0]);
  }

  private static Entry file(String name, String content, int mode) {
    TarArchiveEntry e = new TarArchiveEntry(name, true);
    byte[] data = content.getBytes(StandardCharsets.UTF_8);
    e.setSize(data.length);
    e.setMode(mode);
    return new Entry(e, data);
  }

  /** One tar entry and its content. */
  record Entry(TarArchiveEntry header, byte[] data) {}

  /** A tar of {@code entries} in order. */
  static byte[] tar(List<Entry> entries) throws Exception {
    var bytes = new ByteArrayOutputStream();
    try (var out = new TarArchiveOutputStream(bytes)) {
      out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (Entry entry : entries) {
        out.putArchiveEntry(entry.header());
        out.write(entry.data());
        out.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static int mode(Path p) throws Exception {
    return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
  }
}
