package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.UserError;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tarball build context is untrusted: each test performs one attack and checks nothing escaped. */
public class TarContextTest {
  @TempDir Path dir;

  /** Builds a tar of entries: "name" file with text, "name/" directory, "name -> target" symlink, "name => target" hard link. */
  public static byte[] tar(String... entries) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (String spec : entries) {
        TarArchiveEntry entry;
        byte[] data = new byte[0];
        if (spec.contains(" -> ")) {
          entry = new TarArchiveEntry(spec.substring(0, spec.indexOf(" -> ")), TarArchiveEntry.LF_SYMLINK);
          entry.setLinkName(spec.substring(spec.indexOf(" -> ") + 4));
        } else if (spec.contains(" => ")) {
          entry = new TarArchiveEntry(spec.substring(0, spec.indexOf(" => ")), TarArchiveEntry.LF_LINK);
          entry.setLinkName(spec.substring(spec.indexOf(" => ") + 4));
        } else if (spec.endsWith("/")) {
          entry = new TarArchiveEntry(spec);
        } else {
          String[] parts = spec.split("=", 2);
          entry = new TarArchiveEntry(parts[0], true);
          data = (parts.length > 1 ? parts[1] : "data").getBytes(StandardCharsets.UTF_8);
          entry.setSize(data.length);
          entry.setMode(0100644);
        }
        tar.putArchiveEntry(entry);
        tar.write(data);
        tar.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }

  private Path extract(byte[] archive) throws IOException {
    Path root = Files.createDirectories(dir.resolve("root"));
    new TarContext().extract(new ByteArrayInputStream(archive), root, "test.tar");
    return root;
  }

  @Test
  void filesDirectoriesSymlinksAndHardLinksUnpackInsideTheRoot() throws Exception {
    Path root = extract(tar("Dockerfile=FROM scratch", "src/", "src/main.c=int main;", "link -> src/main.c",
        "copy => src/main.c"));
    assertThat(root.resolve("src/main.c")).hasContent("int main;");
    assertThat(Files.readSymbolicLink(root.resolve("link"))).isEqualTo(Path.of("src/main.c"));
    assertThat(root.resolve("copy")).hasContent("int main;");
    assertThat(TarContext.dockerfile(root, "Dockerfile")).hasContent("FROM scratch");
  }

  @Test
  void aGzipCompressedArchiveUnpacks() throws Exception {
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write(tar("a.txt=hello"));
    }
    assertThat(extract(gz.toByteArray()).resolve("a.txt")).hasContent("hello");
  }

  @Test
  void dotDotAndAbsoluteNamesAreRefused() throws Exception {
    assertThatThrownBy(() -> extract(tar("../escaped=x"))).isInstanceOf(UserError.class)
        .hasMessageContaining("leaves the archive's root");
    assertThatThrownBy(() -> extract(tar("a/../../escaped=x"))).hasMessageContaining("leaves the archive's root");
    assertThat(dir.resolve("escaped")).doesNotExist();
    // TarArchiveEntry strips a leading '/': write the raw name through a PAX path header instead
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      TarArchiveEntry entry = new TarArchiveEntry("x", true);
      entry.addPaxHeader("path", dir.resolve("absolute").toString());
      entry.setSize(1);
      tar.putArchiveEntry(entry);
      tar.write('x');
      tar.closeArchiveEntry();
    }
    assertThatThrownBy(() -> extract(bytes.toByteArray())).hasMessageContaining("not a relative path");
    assertThat(dir.resolve("absolute")).doesNotExist();
  }

  @Test
  void nothingIsWrittenThroughASymlinkTheArchiveMade() throws Exception {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    assertThatThrownBy(() -> extract(tar("evil -> " + outside, "evil/planted=x")))
        .hasMessageContaining("entry evil/planted is below the symlink evil");
    assertThat(outside.resolve("planted")).doesNotExist();
  }

  @Test
  void aHardLinkCannotCopyAFileFromOutsideTheArchive() throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), "client's private key");
    assertThatThrownBy(() -> extract(tar("stolen => " + secret))).hasMessageContaining("not a relative path");
    assertThatThrownBy(() -> extract(tar("stolen => ../secret"))).hasMessageContaining("leaves the archive's root");
    // a link through a symlink the archive made, after the file it named was replaced by the symlink
    Files.createDirectories(dir.resolve("o"));
    Files.writeString(dir.resolve("o/f"), "outside");
    assertThatThrownBy(() -> extract(tar("d/", "d/f=inside", "d -> " + dir.resolve("o"), "copy => d/f")))
        .hasMessageContaining("entry d/f is below the symlink d");
    assertThat(dir.resolve("root/copy")).doesNotExist();
    assertThatThrownBy(() -> extract(tar("dir/", "copy => dir"))).hasMessageContaining("not a file earlier in the archive");
  }

  @Test
  void aDockerfileSymlinkIsNotFollowedOutOfTheArchive() throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), "client's private key");
    Path root = extract(tar("Dockerfile -> " + secret, "sub -> " + dir, "ok=1"));
    assertThatThrownBy(() -> TarContext.dockerfile(root, "Dockerfile")).hasMessageContaining("it is a symlink");
    assertThatThrownBy(() -> TarContext.dockerfile(root, "sub/secret")).hasMessageContaining("no Dockerfile sub/secret");
  }

  @Test
  void theUnpackedSizeAndTheNumberOfEntriesAreBounded() throws Exception {
    // a gzip bomb: 64 MiB of zeros compress to ~64 KiB; unpacking stops at the byte limit
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(gz))) {
      TarArchiveEntry entry = new TarArchiveEntry("zeros", true);
      entry.setSize(64L << 20);
      tar.putArchiveEntry(entry);
      byte[] block = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        tar.write(block);
      }
      tar.closeArchiveEntry();
    }
    Path root = Files.createDirectories(dir.resolve("bomb"));
    assertThatThrownBy(() -> new TarContext(1 << 20, 100).extract(new ByteArrayInputStream(gz.toByteArray()), root, "b"))
        .hasMessageContaining("unpacks to more than 1048576 bytes, the limit");
    Path many = Files.createDirectories(dir.resolve("many"));
    assertThatThrownBy(() -> new TarContext(1 << 20, 3).extract(new ByteArrayInputStream(tar("a", "b", "c", "d")),
        many, "m")).hasMessageContaining("more than 3 entries");
  }

  @Test
  void somethingThatIsNotATarIsRefusedByName() {
    assertThatThrownBy(() -> extract("FROM busybox\nRUN true\n".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(UserError.class).hasMessageContaining("build context test.tar refused");
  }
}
