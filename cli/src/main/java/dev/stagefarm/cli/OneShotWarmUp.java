package dev.stagefarm.cli;

import java.util.List;

/**
 * A one-shot command line's start-up work that does not depend on the parsed options, done on a thread of its own
 * while the main thread parses the command line and checks the Dockerfile (picocli's model, built by reflection:
 * ~0.1-0.15 s on the main thread at start, with its classes from the AOT cache). What it does the embedded
 * farm's start would otherwise do first, on the main thread:
 * <ul>
 *   <li>logging's set-up (slf4j's and logback's service lookups, {@code LogConfigurator}): the lookups open every
 *       jar of the class path (~170, ~0.1 s of CPU; the JVM's AOT cache holds the classes, not the jars' indexes);
 *   <li>the protobuf descriptors of the build API (the request built after the Dockerfile check, and the farm's).
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
    } catch (Throwable e) {
      // left for the main thread, which initialises the same classes and reports what fails
    }
  }
}
