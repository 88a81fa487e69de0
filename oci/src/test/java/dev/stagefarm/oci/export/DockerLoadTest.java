package dev.stagefarm.oci.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.image.BuiltImage;
import dev.stagefarm.oci.image.BusyboxRootfs;
import dev.stagefarm.oci.image.ImageImporter;
import dev.stagefarm.oci.layer.LayerWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker load} of our docker-archive, then a container run from it: the whiteout in the top layer must
 * hide the base's file. Starts a private dockerd (own data/exec root and socket, no bridge, no iptables, so it
 * leaves the host's network alone) and stops it by its pid afterwards. Skipped when dockerd is not installed
 * (Debian package docker.io).
 */
class DockerLoadTest {

    private static final Path DOCKERD = Path.of("/usr/sbin/dockerd");
    private static final Path DOCKER_CLI = Path.of("/usr/bin/docker"); // Debian's; the first on PATH may differ

    @TempDir
    static Path tmp;
    static Process dockerd;
    static Path dockerDir;
    static Path socket;

    @BeforeAll
    static void startDockerd() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DOCKERD) && Files.isExecutable(DOCKER_CLI),
                "dockerd not installed (apt-get install docker.io)");
        // a short path: the socket path must fit in sun_path
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "sfd");
        dockerDir = dir;
        socket = dir.resolve("d.sock");
        dockerd = new ProcessBuilder(DOCKERD.toString(), "--data-root", dir.resolve("data").toString(),
                "--exec-root", dir.resolve("exec").toString(), "--pidfile", dir.resolve("pid").toString(),
                "-H", "unix://" + socket, "--storage-driver", "overlay2", "--bridge", "none",
                "--iptables=false", "--ip6tables=false", "--containerd-namespace", "stagefarm-test",
                "--containerd-plugins-namespace", "stagefarm-test-plugins")
                .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        for (int i = 0; i < 100 && !ping(); i++) {
            Thread.sleep(100);
        }
        assertThat(ping()).as("dockerd answered on %s (log: %s)", socket, dir.resolve("log")).isTrue();
    }

    @AfterAll
    static void stopDockerd() throws Exception {
        if (dockerd != null) {
            dockerd.destroy(); // SIGTERM: dockerd unmounts and stops its containerd
            if (!dockerd.waitFor(20, TimeUnit.SECONDS)) {
                dockerd.destroyForcibly();
                return; // leave the directory: something may still be mounted in it
            }
            new ProcessBuilder("rm", "-rf", "--one-file-system", dockerDir.toString()).start().waitFor();
        }
    }

    private static boolean ping() {
        try {
            return docker("version").exit == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    record Result(int exit, String output) {
    }

    private static Result docker(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(DOCKER_CLI.toString(), "-H", "unix://" + socket));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out);
    }

    @Test
    void dockerLoadsOurDockerArchiveAndRunsIt() throws Exception {
        OciLayoutDirectory layout = OciLayoutDirectory.open(tmp.resolve("layout"));
        BuiltImage base = BusyboxRootfs.buildImage(Files.createDirectory(tmp.resolve("busybox")), layout);
        Path upper = Files.createDirectories(tmp.resolve("upper/etc"));
        Process mknod = new ProcessBuilder("mknod", upper.resolve("group").toString(), "c", "0", "0").start();
        assertThat(mknod.waitFor()).isZero();
        Files.writeString(upper.resolve("motd"), "hello from stagefarm\n");
        BuiltImage image = new ImageImporter(new LayerWriter(LayerWriter.Options.defaults().withOverlayUpper(true)
                .withSourceDateEpoch(Instant.EPOCH)), tmp)
                .importRootfs(upper.getParent(), base.config(), base.manifest().layers(), "RUN …", layout);
        Path archive = tmp.resolve("image.tar");
        try (OutputStream out = Files.newOutputStream(archive)) {
            DockerArchiveExporter.export(layout, image.manifestDescriptor(), ImageRef.parse("stagefarm/load-test:1"),
                    out);
        }

        Result load = docker("load", "-i", archive.toString());
        assertThat(load.exit()).as(load.output()).isZero();
        assertThat(load.output()).contains("Loaded image: stagefarm/load-test:1");
        Result run = docker("run", "--rm", "--network", "none", "stagefarm/load-test:1", "sh", "-c",
                "cat /etc/motd; test -e /etc/group && echo group-present || echo group-gone");
        assertThat(run.exit()).as(run.output()).isZero();
        assertThat(run.output()).contains("hello from stagefarm").contains("group-gone");
        docker("rmi", "stagefarm/load-test:1");
    }
}
