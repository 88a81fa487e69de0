package dev.stagefarm.oci.layer;

import static dev.stagefarm.oci.layer.Trees.file;
import static dev.stagefarm.oci.layer.Trees.sh;
import static dev.stagefarm.oci.layer.Trees.shOut;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerWriterTest {

    static final Instant EPOCH = Instant.parse("2020-01-01T00:00:00Z");

    @TempDir
    Path tmp;

    static List<TarArchiveEntry> entries(byte[] blob) throws IOException {
        List<TarArchiveEntry> list = new ArrayList<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                LayerCompressions.decompress(new ByteArrayInputStream(blob)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                list.add(e);
            }
        }
        return list;
    }

    static byte[] decompress(byte[] blob) throws IOException {
        try (InputStream in = LayerCompressions.decompress(new ByteArrayInputStream(blob))) {
            return in.readAllBytes();
        }
    }

    @Test
    void writesEveryFileKindWithNumericOwnersSortedAndDigestsInOnePass() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        file(root, "b/z.txt", "zzz");
        Path a = file(root, "a.txt", "hello");
        Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rwxr-x---"));
        Files.createLink(root.resolve("b/hard"), a);
        Files.createSymbolicLink(root.resolve("link"), Path.of("a.txt"));
        sh("mkfifo", root.resolve("fifo").toString());
        sh("mknod", root.resolve("null").toString(), "c", "1", "3");
        sh("chown", "1234:5678", a.toString());
        sh("chmod", "u+s", a.toString());
        String longName = "d/" + "x".repeat(150) + "/ünïcode-" + "y".repeat(80) + ".txt";
        file(root, longName, "long");
        sh("setfattr", "-n", "user.note", "-v", "hi", root.resolve("b/z.txt").toString());
        sh("setfattr", "-n", "security.capability", "-v", "0x0100000200200000000000000000000000000000",
                root.resolve("b/z.txt").toString());
        sh("python3", "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])",
                root.resolve("sock").toString());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LayerResult result = new LayerWriter(LayerWriter.Options.defaults().withSourceDateEpoch(EPOCH))
                .write(root, out);
        byte[] blob = out.toByteArray();

        assertThat(result.blob().mediaType()).isEqualTo(MediaTypes.OCI_LAYER_TAR_GZIP);
        assertThat(result.blob().digest()).isEqualTo(Digest.of(blob));
        assertThat(result.blob().size()).isEqualTo(blob.length);
        byte[] tar = decompress(blob);
        assertThat(result.diffId()).isEqualTo(Digest.of(tar));
        assertThat(result.uncompressedSize()).isEqualTo(tar.length);

        List<TarArchiveEntry> entries = entries(blob);
        assertThat(entries).extracting(TarArchiveEntry::getName).containsExactly(
                "a.txt", "b/", "b/hard", "b/z.txt", "d/", "d/" + "x".repeat(150) + "/", longName, "fifo", "link",
                "null");
        TarArchiveEntry first = entries.get(0);
        assertThat(first.getLongUserId()).isEqualTo(1234);
        assertThat(first.getLongGroupId()).isEqualTo(5678);
        assertThat(first.getUserName()).isEmpty();
        assertThat(first.getGroupName()).isEmpty();
        assertThat(first.getMode()).isEqualTo(04750);
        assertThat(entries.get(2).isLink()).isTrue();
        assertThat(entries.get(2).getLinkName()).isEqualTo("a.txt");
        assertThat(entries.get(7).isFIFO()).isTrue();
        assertThat(entries.get(8).isSymbolicLink()).isTrue();
        assertThat(entries.get(8).getLinkName()).isEqualTo("a.txt");
        assertThat(entries.get(9).isCharacterDevice()).isTrue();
        assertThat(entries.get(9).getDevMajor()).isEqualTo(1);
        assertThat(entries.get(9).getDevMinor()).isEqualTo(3);
        assertThat(entries).allSatisfy(e -> {
            assertThat(e.getLastModifiedTime().toInstant()).isBeforeOrEqualTo(EPOCH);
            assertThat(e.getLastModifiedTime().toInstant().getNano()).isZero();
        });
        assertThat(entries.get(3).getExtraPaxHeaders()).containsEntry("SCHILY.xattr.user.note", "hi")
                .containsKey("SCHILY.xattr.security.capability");

        // GNU tar (a different reader) restores the binary capability byte for byte
        Path blobFile = tmp.resolve("layer.tar.gz");
        Files.write(blobFile, blob);
        Path out2 = Files.createDirectory(tmp.resolve("gnutar"));
        sh("tar", "--xattrs", "--xattrs-include=*", "-xpzf", blobFile.toString(), "-C", out2.toString());
        assertThat(shOut("getfattr", "--absolute-names", "-n", "security.capability", "-e", "hex", out2.resolve("b/z.txt").toString()))
                .contains("security.capability=0x0100000200200000000000000000000000000000");
        assertThat(Files.readString(out2.resolve(longName))).isEqualTo("long");
    }

    @Test
    void sameTreeBuiltTwiceInDifferentOrderAndTimeGivesIdenticalDigests() throws Exception {
        for (Compression compression : Compression.values()) {
            LayerWriter writer = new LayerWriter(LayerWriter.Options.defaults().withCompression(compression)
                    .withSourceDateEpoch(EPOCH));
            Path one = Files.createDirectory(tmp.resolve("one-" + compression));
            Path two = Files.createDirectory(tmp.resolve("two-" + compression));
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                names.add("dir" + (i % 5) + "/file" + i);
            }
            for (String n : names) {
                file(one, n, "content of " + n);
            }
            Files.createSymbolicLink(one.resolve("ln"), Path.of("dir0/file0"));
            Files.createLink(one.resolve("hl"), one.resolve("dir1/file1"));
            // the second tree: reverse creation order (other inode numbers and directory order), later mtimes
            for (String n : names.reversed()) {
                file(two, n, "content of " + n);
            }
            Files.createLink(two.resolve("hl"), two.resolve("dir1/file1"));
            Files.createSymbolicLink(two.resolve("ln"), Path.of("dir0/file0"));
            Trees.setMtimeRecursively(one, FileTime.from(EPOCH.plusSeconds(100)));
            Trees.setMtimeRecursively(two, FileTime.from(Instant.now()));

            LayerResult r1 = writer.write(one, OutputStreamDiscard.INSTANCE.stream());
            LayerResult r2 = writer.write(two, OutputStreamDiscard.INSTANCE.stream());
            assertThat(r2.diffId()).as("diff_id with %s", compression).isEqualTo(r1.diffId());
            assertThat(r2.blob()).as("blob with %s", compression).isEqualTo(r1.blob());
        }
    }

    @Test
    void xattrsOfFilesWithAwkwardNamesArriveOnTheRightEntries() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        List<String> names = List.of("new\nline", "sp ace", "ünï", "back\\slash", "eq=ual");
        for (String n : names) {
            Path f = file(root, n, n);
            sh("setfattr", "-n", "user.name", "-v", "v-" + n.length(), f.toString());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new LayerWriter(LayerWriter.Options.defaults()).write(root, out);
        List<TarArchiveEntry> entries = entries(out.toByteArray());
        assertThat(entries).extracting(TarArchiveEntry::getName).containsExactlyInAnyOrderElementsOf(names);
        assertThat(entries).allSatisfy(e -> assertThat(e.getExtraPaxHeaders())
                .containsEntry("SCHILY.xattr.user.name", "v-" + e.getName().length()));
    }

    @Test
    void withoutSourceDateEpochMtimesAreKeptToTheSecond() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        Path f = file(root, "f", "x");
        Files.setLastModifiedTime(f, FileTime.from(Instant.parse("2021-06-01T10:00:00.987654321Z")));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new LayerWriter(LayerWriter.Options.defaults().withCompression(Compression.NONE)).write(root, out);
        assertThat(entries(out.toByteArray()).get(0).getLastModifiedTime().toInstant())
                .isEqualTo(Instant.parse("2021-06-01T10:00:00Z"));
    }

    @Test
    void anUncompressedLayerIsItsTarAndItsBlobDigestIsItsDiffId() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        file(root, "f", "some content");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LayerResult result = new LayerWriter(LayerWriter.Options.defaults().withCompression(Compression.NONE))
                .write(root, out);
        byte[] blob = out.toByteArray();
        assertThat(result.blob().mediaType()).isEqualTo(MediaTypes.OCI_LAYER_TAR);
        assertThat(result.blob().digest()).isEqualTo(Digest.of(blob)).isEqualTo(result.diffId());
        assertThat(result.blob().size()).isEqualTo(blob.length).isEqualTo(result.uncompressedSize());
        assertThat(entries(blob)).extracting(e -> e.getName()).containsExactly("f");
    }

    @Test
    void overlayUpperDirBecomesOciWhiteouts() throws Exception {
        Path upper = Files.createDirectory(tmp.resolve("upper"));
        Files.createDirectories(upper.resolve("etc"));
        sh("mknod", upper.resolve("etc/deleted.conf").toString(), "c", "0", "0");
        Path opaque = Files.createDirectories(upper.resolve("var/cache"));
        file(upper, "var/cache/new", "n");
        sh("setfattr", "-n", "trusted.overlay.opaque", "-v", "y", opaque.toString());
        sh("setfattr", "-n", "trusted.overlay.origin", "-v", "0x00", upper.resolve("etc").toString());
        Path ping = file(upper, "bin/ping", "elf");
        sh("setfattr", "-n", "security.capability", "-v", "0x0100000200200000000000000000000000000000",
                ping.toString());
        sh("mknod", upper.resolve("realdev").toString(), "c", "1", "5");

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new LayerWriter(LayerWriter.Options.defaults().withOverlayUpper(true).withSourceDateEpoch(EPOCH))
                .write(upper, out);
        List<TarArchiveEntry> entries = entries(out.toByteArray());

        assertThat(entries).extracting(TarArchiveEntry::getName).containsExactly(
                "bin/", "bin/ping", "etc/", "etc/.wh.deleted.conf", "realdev", "var/", "var/cache/",
                "var/cache/.wh..wh..opq", "var/cache/new");
        assertThat(entries.get(3).isFile()).isTrue();
        assertThat(entries.get(3).getSize()).isZero();
        assertThat(entries.get(4).isCharacterDevice()).isTrue();
        assertThat(entries).allSatisfy(e -> assertThat(e.getExtraPaxHeaders().keySet())
                .noneMatch(k -> k.startsWith("SCHILY.xattr.trusted.overlay.")));
        assertThat(entries.get(1).getExtraPaxHeaders()).containsKey("SCHILY.xattr.security.capability");
    }

    @Test
    void overlayRedirectIsRefusedWithAClearError() throws Exception {
        Path upper = Files.createDirectory(tmp.resolve("upper"));
        Path moved = Files.createDirectories(upper.resolve("moved"));
        sh("setfattr", "-n", "trusted.overlay.redirect", "-v", "/orig", moved.toString());
        LayerWriter writer = new LayerWriter(LayerWriter.Options.defaults().withOverlayUpper(true));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> writer.write(upper, new ByteArrayOutputStream()))
                .hasMessageContaining("moved").hasMessageContaining("redirect_dir=off");
    }

    /** A sink that keeps nothing (digests are all we compare). */
    enum OutputStreamDiscard {
        INSTANCE;

        java.io.OutputStream stream() {
            return java.io.OutputStream.nullOutputStream();
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
