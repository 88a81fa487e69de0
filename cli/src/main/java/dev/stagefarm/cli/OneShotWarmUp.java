package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.EmbeddedFarmSupport;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import java.util.List;

/**
 * A one-shot command line's start-up work that does not depend on the parsed options, done on a thread of its own
 * while the main thread parses the command line and checks the Dockerfile (picocli's model, built by reflection:
 * ~0.1-0.15 s on the main thread at start, with its classes from the AOT cache). What it does the embedded
 * farm's start would otherwise do first, on the main thread:
 * <ul>
 *   <li>logging's set-up (slf4j's and logback's service lookups, {@code LogConfigurator}): the lookups open every
 *       jar of the class path (~170, ~0.1 s of CPU; the JVM's AOT cache holds the classes, not the jars' indexes);
 *   <li>the protobuf descriptors of the build API (the request built after the Dockerfile check, and the farm's);
 *   <li>what the farm's start initialises first (session 13, JFR of a warm one-shot: ~0.1 s of the main thread's
 *       CPU): Jackson's {@code ObjectMapper} (the registry client's), gRPC's in-process server and channel classes
 *       and the build service's descriptor;
 *   <li>the image JSON's (de)serialisers, which the planning (a base image's manifest and config) and the stages'
 *       results would otherwise build on the coordinator's thread, in the build's critical path.
 * </ul>
 * Nothing here changes what a run does or prints: the same classes are initialised the same way, only earlier; a
 * failure here is left for the main thread to meet and report where it always did (bench/README.md, "Session 12
 * (issue 12): the one-shot JVM's start").
 */
final class OneShotWarmUp {
  private OneShotWarmUp() {}

  /** Starts the warm-up (a daemon thread) when {@code args} ask for a one-shot farm; returns it, else null. */
  static Thread startFor(String... args) {
    if (!List.of(args).contains("--one-shot")) {
      return null;
    }
    return Thread.ofPlatform().daemon().name("stagefarm-warm-up").start(OneShotWarmUp::warmUp);
  }

  static void warmUp() {
    try {
      org.slf4j.LoggerFactory.getILoggerFactory();
      dev.stagefarm.proto.v1.BuildServiceProto.getDescriptor();
      // in the order the farm's start meets them
      Class.forName(RegistryClient.class.getName()); // initialised: its ObjectMapper, ~45 ms of CPU
      BuildServiceGrpc.getServiceDescriptor();
      if (EmbeddedFarmSupport.available()) { // the thin client's distribution has no embedded farm
        EmbeddedFarmSupport.require("--one-shot").warmUpOneShot(); // gRPC's in-process transport
      }
      imageJson();
    } catch (Throwable e) {
      // left for the main thread, which initialises the same classes and reports what fails
    }
  }

  /** A round trip of an image config and manifest through the image JSON: its mapper's (de)serialisers built. */
  private static void imageJson() {
    byte[] config = ImageJson.writeConfig(ImageConfig.scratch(Platform.LINUX_AMD64));
    ImageJson.readConfig(config);
    Descriptor configDescriptor = new Descriptor(MediaTypes.OCI_CONFIG, Digest.of(config), config.length);
    ImageJson.readManifest(ImageJson.writeManifest(ImageManifest.oci(configDescriptor, List.of())));
  }
}
