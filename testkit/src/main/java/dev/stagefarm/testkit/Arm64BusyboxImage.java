package dev.stagefarm.testkit;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.export.OciLayoutDirectory;
import dev.stagefarm.oci.image.BuiltImage;
import dev.stagefarm.oci.image.BusyboxRootfs;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageImporter;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.PushOptions;
import dev.stagefarm.oci.registry.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A linux/arm64 busybox image for multi-platform tests: Debian's {@code busybox-static} for arm64,
 * downloaded once from the Debian mirror (cached under {@code ~/.cache/stagefarm}), unpacked with
 * {@code dpkg-deb} and wrapped as an image whose config says arm64. Listing its applets runs the
 * arm64 binary, so building it needs the qemu binfmt_misc handler ({@link #runnable()}).
 */
public final class Arm64BusyboxImage {
  public static final String REPOSITORY = "library/busybox-arm64";
  public static final String TAG = "latest";
  static final String DEB = "busybox-static_1.35.0-4+deb12u1+b1_arm64.deb";
  static final String MIRROR = "http://deb.debian.org/debian/pool/main/b/busybox/";
  /** The kernel's handler for aarch64 binaries, registered by qemu-user-static. */
  public static final Path QEMU_HANDLER = Path.of("/proc/sys/fs/binfmt_misc/qemu-aarch64");

  private static ImageReference pushed;

  private Arm64BusyboxImage() {}

  /** Whether this host runs arm64 binaries (qemu-user-static registered with binfmt_misc, enabled). */
  public static boolean runnable() {
    try {
      return Files.isRegularFile(QEMU_HANDLER)
          && Files.readAllLines(QEMU_HANDLER).stream().findFirst().orElse("").strip().equals("enabled");
    } catch (IOException e) {
      return false;
    }
  }

  /** Pushes the image as {@code REGISTRY/library/busybox-arm64:latest} (once per JVM); returns it pinned. */
  public static synchronized ImageReference pushTo(RegistryFixture registry) throws IOException, InterruptedException {
    if (pushed != null) {
      return pushed;
    }
    Path work = TempDirectories.createDeletedAtExit("stagefarm-busybox-arm64-");
    Path unpacked = work.resolve("deb");
    run("dpkg-deb", "-x", deb().toString(), unpacked.toString());
    Path rootfs = Files.createDirectories(work.resolve("rootfs"));
    BusyboxRootfs.create(rootfs, unpacked.resolve("bin/busybox"));
    ImageConfig config = ImageConfig.scratch(new Platform("linux", "arm64"))
        .withCreated(Instant.EPOCH)
        .withConfig(ContainerConfig.EMPTY.withEnv("PATH", BusyboxImage.PATH).withCmd(Optional.of(List.of("sh"))));
    LayerWriter writer = new LayerWriter(LayerWriter.Options.defaults().withSourceDateEpoch(Instant.EPOCH));
    OciLayoutDirectory layout = OciLayoutDirectory.open(work.resolve("layout"));
    BuiltImage built = new ImageImporter(writer, Files.createDirectories(work.resolve("scratch")))
        .importRootfs(rootfs, config, List.of(), "busybox rootfs from busybox-static (arm64)", layout);
    ImageReference ref = registry.reference(REPOSITORY + ":" + TAG);
    byte[] manifest;
    try (InputStream in = layout.open(built.manifestDescriptor().digest())) {
      manifest = in.readAllBytes();
    }
    try (RegistryClient client = new RegistryClient(registry.settings())) {
      pushed = ref.withDigest(client.pushImage(ref, manifest, layout, PushOptions.MONOLITHIC));
    }
    return pushed;
  }

  private static Path deb() throws IOException, InterruptedException {
    Path cache = Path.of(System.getProperty("user.home"), ".cache", "stagefarm", DEB);
    if (Files.isRegularFile(cache)) {
      return cache;
    }
    Files.createDirectories(cache.getParent());
    HttpResponse<InputStream> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(MIRROR + DEB)).build(), HttpResponse.BodyHandlers.ofInputStream());
    if (response.statusCode() != 200) {
      throw new IOException("downloading " + MIRROR + DEB + " failed: HTTP " + response.statusCode());
    }
    // a partial file of this JVM's own: test JVMs running side by side may download it at the same time
    Path partial = Files.createTempFile(cache.getParent(), DEB, ".part");
    try (InputStream in = response.body()) {
      Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
      Files.move(partial, cache, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(partial);
    }
    return cache;
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + out);
    }
  }
}
