package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.export.ImageRef;
import dev.stagefarm.oci.export.OciArchiveExporter;
import dev.stagefarm.oci.export.OciLayoutDirectory;
import dev.stagefarm.oci.image.BuiltImage;
import dev.stagefarm.oci.image.BusyboxRootfs;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageImporter;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.PushOptions;
import dev.stagefarm.oci.registry.RegistryClient;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stagefarm image}: make base images locally (no public registry needed). */
@Command(
    name = "image",
    mixinStandardHelpOptions = true,
    description = "Make base images locally.",
    subcommands = {ImageCommand.Import.class, ImageCommand.BusyboxRootfsCommand.class})
public final class ImageCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  /** {@code stagefarm image import ROOTFS -t REF}: one-layer image from a directory, pushed and/or written. */
  @Command(
      name = "import",
      mixinStandardHelpOptions = true,
      description = "Make a one-layer image from a root filesystem directory; push it (-t REGISTRY/NAME:TAG) or write it (-o).")
  public static final class Import implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ROOTFS")
    Path rootfs;

    @Option(names = {"-t", "--tag"}, paramLabel = "REF", description = "Push to this reference, e.g. 127.0.0.1:5000/library/busybox:latest.")
    List<String> tags = new ArrayList<>();

    @Option(names = {"-o", "--output"}, paramLabel = "PATH", description = "Write an OCI layout tarball here.")
    Path output;

    @Option(names = "--cmd", paramLabel = "ARG", split = ",", description = "The image's CMD (comma-separated).")
    List<String> cmd = new ArrayList<>();

    @Option(names = "--env", paramLabel = "K=V", description = "An environment variable of the image (repeatable).")
    List<String> env = new ArrayList<>();

    @Mixin FarmFlags farmFlags;

    @Override
    public Integer call() throws Exception {
      if (!Files.isDirectory(rootfs)) {
        throw new UserError("root filesystem " + rootfs + " is not a directory");
      }
      if (tags.isEmpty() && output == null) {
        throw new UserError("say where the image goes: -t REGISTRY/NAME:TAG and/or -o PATH");
      }
      ContainerConfig container = ContainerConfig.EMPTY;
      List<String> envList = new ArrayList<>(env);
      if (envList.stream().noneMatch(e -> e.startsWith("PATH="))) {
        envList.add(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
      }
      container = container.withEnvList(envList);
      if (!cmd.isEmpty()) {
        container = container.withCmd(Optional.of(cmd));
      }
      ImageConfig base = ImageConfig.scratch(Platform.LINUX_AMD64).withConfig(container);
      Path work = Files.createTempDirectory("stagefarm-import-");
      try {
        OciLayoutDirectory layout = OciLayoutDirectory.open(work.resolve("layout"));
        ImageImporter importer = new ImageImporter(new LayerWriter(LayerWriter.Options.defaults()), work);
        BuiltImage image = importer.importRootfs(rootfs, base, List.of(), "stagefarm image import " + rootfs.getFileName(), layout);
        byte[] manifestBytes = ImageJson.writeManifest(image.manifest());
        if (!tags.isEmpty()) {
          try (RegistryClient registry = new RegistryClient(farmFlags.registrySettings())) {
            for (String tag : tags) {
              try {
                registry.pushImage(ImageReference.parse(tag), manifestBytes, layout, PushOptions.MONOLITHIC);
              } catch (IOException | IllegalArgumentException e) {
                throw new UserError("pushing " + tag + " failed: " + e.getMessage());
              }
              System.out.println("pushed " + tag + "@" + image.manifestDescriptor().digest());
            }
          }
        }
        if (output != null) {
          try (OutputStream out = Files.newOutputStream(output)) {
            OciArchiveExporter.export(
                layout, image.manifestDescriptor(), ImageRef.parse(tags.isEmpty() ? "imported:latest" : tags.get(0)), out);
          }
          System.out.println("wrote " + output + " (" + image.manifestDescriptor().digest() + ")");
        }
        return 0;
      } finally {
        try (var paths = Files.walk(work)) {
          paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  /** {@code stagefarm image busybox-rootfs DIR}: a root filesystem from the host's static busybox. */
  @Command(
      name = "busybox-rootfs",
      mixinStandardHelpOptions = true,
      description = "Create a busybox root filesystem from the host's /bin/busybox (Debian's busybox-static).")
  public static final class BusyboxRootfsCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR")
    Path dir;

    @Override
    public Integer call() throws Exception {
      if (!Files.isExecutable(BusyboxRootfs.HOST_BUSYBOX)) {
        throw new UserError(BusyboxRootfs.HOST_BUSYBOX + " is missing: install busybox-static (apt-get install busybox-static)");
      }
      BusyboxRootfs.create(dir);
      System.out.println("busybox root filesystem in " + dir);
      return 0;
    }
  }
}
