package dev.stagefarm.oci.layer;

import static dev.stagefarm.oci.layer.Trees.file;
import static dev.stagefarm.oci.layer.Trees.sh;
import static dev.stagefarm.oci.layer.Trees.shOut;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerExtractorTest {

    static final Instant EPOCH = Instant.parse("2020-01-01T00:00:00Z");

    @TempDir
    Path tmp;

    private Path dir(String name) throws IOException {
        return Files.createDirectory(tmp.resolve(name));
    }

    private static LayerExtractor.Result extract(LayerExtractor.Mode mode, byte[] layer, Path root) throws IOException {
        return new LayerExtractor(mode).extract(new ByteArrayInputStream(layer), root);
    }

    private static byte[] write(Path root, LayerWriter.Options options) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new LayerWriter(options).write(root, out);
        return out.toByteArray();
    }

    @Test
    void writtenTreeExtractsBackIdenticallyInEveryCompression() throws Exception {
        Path src = dir("src");
        file(src, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
        Path tool = file(src, "usr/bin/tool", "#!/bin/sh\necho hi\n");
        sh("chmod", "4755", tool.toString());
        sh("chown", "-h", "10:20", tool.toString());
        Files.createLink(src.resolve("usr/bin/tool2"), tool);
        Files.createSymbolicLink(src.resolve("bin"), Path.of("usr/bin"));
        sh("mknod", src.resolve("usr/console").toString(), "c", "5", "1");
        sh("mkfifo", src.resolve("usr/pipe").toString());
        Path tmpDir = Files.createDirectories(src.resolve("tmp"));
        sh("chmod", "1777", tmpDir.toString());
        sh("setfattr", "-n", "user.origin", "-v", "test", src.resolve("etc/passwd").toString());
        Trees.setMtimeRecursively(src, FileTime.from(Instant.parse("2019-05-05T05:05:05Z")));

        for (Compression c : Compression.values()) {
            byte[] layer = write(src, LayerWriter.Options.defaults().withCompression(c).withSourceDateEpoch(EPOCH));
            Path out = dir("out-" + c);
            LayerExtractor.Result r = extract(LayerExtractor.Mode.OVERLAY_LOWER, layer, out);
            assertThat(Trees.describe(out, true)).as("extracted %s", c).isEqualTo(Trees.describe(src, true));
            assertThat(r.blobDigest()).isEqualTo(Digest.of(layer));
            assertThat(r.blobSize()).isEqualTo(layer.length);
            assertThat(Files.readAttributes(out.resolve("usr/bin/tool2"), "unix:ino"))
                    .isEqualTo(Files.readAttributes(out.resolve("usr/bin/tool"), "unix:ino"));
            assertThat(shOut("getfattr", "--absolute-names", "-n", "user.origin", "--only-values", out.resolve("etc/passwd").toString()))
                    .isEqualTo("test");
        }
    }

    @Test
    void binaryXattrValuesSurviveTheRoundTripByteForByte() throws Exception {
        Path src = dir("src");
        Path f = file(src, "bin/tool", "elf");
        file(src, "d/" + "long".repeat(40) + "/file", "x");
        // cap_setuid (bit 7) makes a value that is not valid UTF-8 (0x80)
        String cap = "0x0100000280000000000000000000000000000000";
        sh("setfattr", "-n", "security.capability", "-v", cap, f.toString());
        sh("setfattr", "-n", "user.bin", "-v", "0xff00fe", src.resolve("d/" + "long".repeat(40) + "/file").toString());
        byte[] layer = write(src, LayerWriter.Options.defaults());
        Path out = dir("out");
        LayerExtractor.Result r = extract(LayerExtractor.Mode.OVERLAY_LOWER, layer, out);
        assertThat(r.warnings()).isEmpty();
        assertThat(shOut("getfattr", "--absolute-names", "-n", "security.capability", "-e", "hex",
                out.resolve("bin/tool").toString())).contains("security.capability=" + cap);
        assertThat(shOut("getfattr", "--absolute-names", "-n", "user.bin", "-e", "hex",
                out.resolve("d/" + "long".repeat(40) + "/file").toString())).contains("user.bin=0xff00fe");
    }

    @Test
    void overlayLowerTurnsWhiteoutsIntoOverlayWhiteoutsThatTheKernelHonours() throws Exception {
        Path base = dir("base");
        file(base, "etc/keep", "k");
        file(base, "etc/gone", "g");
        file(base, "var/cache/old", "o");
        byte[] baseLayer = write(base, LayerWriter.Options.defaults());
        byte[] top = new TarBuilder().dir("etc").file("etc/.wh.gone", "").dir("var/cache")
                .file("var/cache/.wh..wh..opq", "").file("var/cache/new", "n")
                .file(".wh.replaced", "").dir("replaced").file("replaced/inside", "i").build();

        Path lower1 = dir("lower1");
        Path lower2 = dir("lower2");
        extract(LayerExtractor.Mode.OVERLAY_LOWER, baseLayer, lower1);
        extract(LayerExtractor.Mode.OVERLAY_LOWER, top, lower2);

        Map<String, Object> wh = Files.readAttributes(lower2.resolve("etc/gone"), "unix:mode,rdev",
                LinkOption.NOFOLLOW_LINKS);
        assertThat((Integer) wh.get("mode") & 0170000).isEqualTo(0020000);
        assertThat(wh.get("rdev")).isEqualTo(0L);
        assertThat(shOut("getfattr", "--absolute-names", "-n", "trusted.overlay.opaque", "--only-values",
                lower2.resolve("var/cache").toString())).isEqualTo("y");
        assertThat(shOut("getfattr", "--absolute-names", "-n", "trusted.overlay.opaque", "--only-values",
                lower2.resolve("replaced").toString())).isEqualTo("y");

        Path merged = dir("merged");
        sh("mount", "-t", "overlay", "overlay", "-o", "ro,lowerdir=" + lower2 + ":" + lower1, merged.toString());
        try {
            assertThat(merged.resolve("etc/keep")).exists();
            assertThat(merged.resolve("etc/gone")).doesNotExist();
            assertThat(merged.resolve("var/cache/old")).doesNotExist();
            assertThat(merged.resolve("var/cache/new")).hasContent("n");
            assertThat(merged.resolve("replaced/inside")).hasContent("i");
        } finally {
            sh("umount", merged.toString());
        }
    }

    @Test
    void overlaySnapshotAppliedOnTheBaseEqualsTheMergedView() throws Exception {
        Path lower = dir("lower");
        file(lower, "etc/config", "v1");
        file(lower, "etc/obsolete", "x");
        file(lower, "data/a", "a");
        file(lower, "data/b", "b");
        Path upper = dir("upper");
        Path work = dir("work");
        Path merged = dir("merged");
        sh("mount", "-t", "overlay", "overlay", "-o",
                "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + ",redirect_dir=off,metacopy=off",
                merged.toString());
        try {
            Files.writeString(merged.resolve("etc/config"), "v2");
            Files.delete(merged.resolve("etc/obsolete"));
            LayerExtractor.deleteRecursively(merged.resolve("data"));
            file(merged, "data/fresh", "f");
            file(merged, "new/file", "n");
        } finally {
            sh("umount", merged.toString());
        }
        byte[] diff = write(upper, LayerWriter.Options.defaults().withOverlayUpper(true));

        Path flat = dir("flat");
        extract(LayerExtractor.Mode.APPLY, write(lower, LayerWriter.Options.defaults()), flat);
        extract(LayerExtractor.Mode.APPLY, diff, flat);

        sh("mount", "-t", "overlay", "overlay", "-o", "ro,lowerdir=" + upper + ":" + lower, merged.toString());
        try {
            assertThat(Trees.describe(flat, false)).isEqualTo(Trees.describe(merged, false));
        } finally {
            sh("umount", merged.toString());
        }
        assertThat(flat.resolve("etc/obsolete")).doesNotExist();
        assertThat(flat.resolve("data/a")).doesNotExist();
        assertThat(flat.resolve("data/fresh")).hasContent("f");
    }

    @Test
    void applyModeDeletesWhiteoutsButKeepsWhatTheSameLayerRecreates() throws Exception {
        Path root = dir("root");
        file(root, "a/old", "1");
        file(root, "b", "2");
        file(root, "c/keep", "3");
        byte[] layer = new TarBuilder().file("b", "new b").file(".wh.b", "").file(".wh.a", "").dir("c")
                .file("c/added", "4").file("c/.wh..wh..opq", "").build();
        extract(LayerExtractor.Mode.APPLY, layer, root);
        assertThat(root.resolve("a")).doesNotExist();
        assertThat(root.resolve("b")).hasContent("new b");
        assertThat(root.resolve("c/keep")).doesNotExist();
        assertThat(root.resolve("c/added")).hasContent("4");
    }

    @Test
    void absoluteSymlinksResolveInsideTheRootNotOnTheHost() throws Exception {
        Path root = dir("root");
        byte[] layer = new TarBuilder().dir("etc").symlink("hostetc", "/etc").file("hostetc/evil", "x").build();
        extract(LayerExtractor.Mode.APPLY, layer, root);
        assertThat(root.resolve("etc/evil")).hasContent("x");
        assertThat(Path.of("/etc/evil")).doesNotExist();
    }

    // ---- hostile input -------------------------------------------------------------------------------------------

    private void assertRefused(byte[] layer, String entry, String reason) throws IOException {
        Path root = Files.createTempDirectory(tmp, "hostile");
        assertThatThrownBy(() -> extract(LayerExtractor.Mode.APPLY, layer, root))
                .isInstanceOf(HostileLayerException.class)
                .hasMessageContaining("'" + entry + "'")
                .hasMessageContaining(reason);
        assertThat(tmp.resolve("outside")).doesNotExist();
    }

    @Test
    void refusesDotDotComponents() throws IOException {
        assertRefused(new TarBuilder().file("a/../../outside", "x").build(), "a/../../outside", "'..' component");
    }

    @Test
    void refusesAbsolutePaths() throws IOException {
        assertRefused(new TarBuilder().file("/etc/shadow", "x").build(), "/etc/shadow", "absolute path");
    }

    @Test
    void refusesWritingThroughASymlinkThatLeavesTheRoot() throws IOException {
        assertRefused(new TarBuilder().symlink("esc", "../../..").file("esc/outside", "x").build(),
                "esc/outside", "writes through symlink esc -> ../../..");
        assertRefused(new TarBuilder().dir("d").symlink("d/up", "../..").file("d/up/outside", "x").build(),
                "d/up/outside", "points outside the layer root");
    }

    @Test
    void refusesHardlinksOutOfTheRootOrToNothing() throws IOException {
        assertRefused(new TarBuilder().hardlink("h", "../outside").build(), "h", "'..' component");
        assertRefused(new TarBuilder().hardlink("h", "/etc/passwd").build(), "h", "absolute path");
        assertRefused(new TarBuilder().hardlink("h", "missing").build(), "h", "does not exist");
        assertRefused(new TarBuilder().symlink("esc", "/../..").dir("d").hardlink("h", "esc/x").build(), "h",
                "points outside the layer root");
    }

    @Test
    void refusesDuplicateAndConflictingEntries() throws IOException {
        assertRefused(new TarBuilder().file("f", "1").file("f", "2").build(), "f", "duplicate entry");
        assertRefused(new TarBuilder().file("f", "1").dir("f").build(), "f/", "duplicate entry");
        assertRefused(new TarBuilder().file("f", "1").file("f/child", "2").build(), "f/child",
                "f is not a directory");
    }

    @Test
    void refusesSizesThatLie() throws IOException {
        byte[] honest = new TarBuilder().file("big", "0123456789".repeat(100)).file("next", "n").build();
        // claims more bytes than the archive holds
        byte[] tooLong = Arrays.copyOf(TarBuilder.withHeaderSize(honest, 0, 1_000_000), 2048);
        assertRefused(tooLong, "big", "declares 1000000 bytes");
        // claims fewer: the rest of the data is then read as the next header
        byte[] tooShort = TarBuilder.withHeaderSize(honest, 0, 3);
        assertRefused(tooShort, "big", "corrupt");
    }
}
