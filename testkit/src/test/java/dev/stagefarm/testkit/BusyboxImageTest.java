package dev.stagefarm.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.BuiltImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import java.nio.file.Files;
import java.nio.file.Path;

class BusyboxImageTest {

    @Test
    void imageHasBusyboxAppletsUsersAndAStickyTmp() throws IOException {
        BuiltImage image = BusyboxImage.image();
        assertThat(image.config().platform()).isEqualTo(Platform.LINUX_AMD64);
        assertThat(image.config().config().envValue("PATH")).contains(BusyboxImage.PATH);
        assertThat(image.manifest().layers()).hasSize(1);
        Descriptor layer = image.manifest().layers().getFirst();
        assertThat(layer.mediaType()).isEqualTo(MediaTypes.OCI_LAYER_TAR_GZIP);

        Map<String, TarArchiveEntry> entries = new HashMap<>();
        String passwd = null;
        String group = null;
        try (InputStream blob = BusyboxImage.layout().open(layer.digest());
             TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(blob))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                String name = e.getName().replaceFirst("^\\./", "").replaceFirst("/$", "");
                entries.put(name, e);
                if (name.equals("etc/passwd")) {
                    passwd = new String(tar.readAllBytes(), StandardCharsets.UTF_8);
                } else if (name.equals("etc/group")) {
                    group = new String(tar.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
        }

        assertThat(entries.get("bin/busybox").getMode() & 0111).isNotZero();
        assertThat(entries.get("bin/sh").isSymbolicLink()).isTrue();
        assertThat(entries.get("bin/sh").getLinkName()).isEqualTo("/bin/busybox");
        assertThat(entries).containsKeys("bin/ls", "bin/cat", "usr/bin/env");
        assertThat(passwd).contains("root:x:0:0:", "nobody:x:65534:", "app:x:1000:1000:");
        assertThat(group).contains("root:x:0:", "app:x:1000:");
        assertThat(entries.get("home/app").getLongUserId()).isEqualTo(1000);
        assertThat(entries.get("tmp").getMode() & 07777).isEqualTo(01777);
    }

    @Test
    void rebuildingInAnotherDirectoryGivesTheSameDigests() throws IOException {
        BuiltImage shared = BusyboxImage.image();
        // Not @TempDir: JUnit warns about every absolute applet symlink when it cleans up.
        Path elsewhere = Files.createTempDirectory("busybox-rebuild-");
        try {
            Path index = BusyboxImage.buildInto(elsewhere).path().resolve("index.json");
            assertThat(Files.readString(index)).contains(shared.manifestDescriptor().digest().toString());
        } finally {
            TempDirectories.deleteQuietly(elsewhere);
        }
    }
}
