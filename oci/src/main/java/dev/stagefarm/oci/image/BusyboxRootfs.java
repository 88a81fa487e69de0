package dev.stagefarm.oci.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A minimal root filesystem from Debian's {@code busybox-static}: {@code /bin/busybox}, one symlink per applet
 * (what {@code busybox --install -s} makes, done here without chroot), {@code /etc/passwd}, {@code /etc/group} and a
 * 1777 {@code /tmp}. No registry is reachable in tests, so this is our base image.
 */
public final class BusyboxRootfs {

    /** Where Debian's busybox-static installs the binary. */
    public static final Path HOST_BUSYBOX = Path.of("/bin/busybox");

    private BusyboxRootfs() {
    }

    /** Fills the empty directory {@code rootfs}. */
    public static void create(Path rootfs) throws IOException {
        create(rootfs, HOST_BUSYBOX);
    }

    public static void create(Path rootfs, Path busybox) throws IOException {
        if (!Files.isExecutable(busybox)) {
            throw new IOException("no busybox at " + busybox + " (install the Debian package busybox-static)");
        }
        Path bin = Files.createDirectories(rootfs.resolve("bin"));
        Path target = bin.resolve("busybox");
        Files.copy(busybox, target, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String applet : applets(busybox)) {
            Path link = rootfs.resolve(applet);
            if (link.equals(target) || Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, Path.of("/bin/busybox"));
        }
        Path etc = Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), String.join("\n",
                "root:x:0:0:root:/root:/bin/sh",
                "nobody:x:65534:65534:nobody:/nonexistent:/bin/false", ""), StandardCharsets.UTF_8);
        Files.writeString(etc.resolve("group"), String.join("\n", "root:x:0:", "nogroup:x:65534:", ""),
                StandardCharsets.UTF_8);
        Files.createDirectories(rootfs.resolve("root"));
        Path tmp = Files.createDirectories(rootfs.resolve("tmp"));
        Files.setAttribute(tmp, "unix:mode", 01777);
    }

    /** The PATH our busybox images set. */
    public static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /**
     * Builds the busybox base image reproducibly (all mtimes clamped to the epoch, gzip) into {@code sink}: one layer,
     * {@code Env=[PATH=…]}, {@code Cmd=["sh"]}, linux/amd64. The same busybox binary gives the same manifest digest.
     *
     * @param workDir an empty scratch directory (the rootfs and the spooled layer go there)
     */
    public static BuiltImage buildImage(Path workDir, dev.stagefarm.oci.BlobSink sink) throws IOException {
        Path rootfs = Files.createDirectories(workDir.resolve("rootfs"));
        create(rootfs);
        ImageConfig config = ImageConfig.scratch(dev.stagefarm.oci.Platform.LINUX_AMD64)
                .withCreated(java.time.Instant.EPOCH)
                .updateConfig(c -> c.withEnv("PATH", PATH).withCmd(java.util.Optional.of(List.of("sh"))));
        dev.stagefarm.oci.layer.LayerWriter writer = new dev.stagefarm.oci.layer.LayerWriter(
                dev.stagefarm.oci.layer.LayerWriter.Options.defaults().withSourceDateEpoch(java.time.Instant.EPOCH));
        return new ImageImporter(writer, workDir).importRootfs(rootfs, config, List.of(), "busybox rootfs", sink);
    }

    /** {@code busybox --list-full}: applet paths relative to the root, e.g. {@code bin/sh}, {@code usr/bin/env}. */
    private static List<String> applets(Path busybox) throws IOException {
        Process p = new ProcessBuilder(busybox.toString(), "--list-full").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException(busybox + " --list-full failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while listing busybox applets");
        }
        return out.lines().map(String::strip).filter(s -> !s.isEmpty() && !s.contains("..")).sorted().toList();
    }
}
