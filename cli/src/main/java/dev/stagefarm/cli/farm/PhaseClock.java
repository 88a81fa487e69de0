package dev.stagefarm.cli.farm;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Wall and process CPU time of the embedded farm's start-up and teardown phases, logged as one
 * line at INFO ({@code STAGEFARM_LOG_LEVEL=INFO}): on a shared machine a phase's wall time says
 * little, its CPU time (all threads of the JVM, JIT and GC included) what it costs.
 */
final class PhaseClock {
  private final String what;
  private final long startNanos = System.nanoTime();
  private final long startCpu = processCpuNanos();
  private long lastNanos = startNanos;
  private long lastCpu = startCpu;
  private final List<String> phases = new ArrayList<>();

  PhaseClock(String what) {
    this.what = what;
  }

  /** Ends the phase that began at the previous mark (or at construction). */
  synchronized void mark(String phase) {
    long now = System.nanoTime();
    long cpu = processCpuNanos();
    phases.add(phase + " " + ms(now - lastNanos) + "/" + ms(cpu - lastCpu));
    lastNanos = now;
    lastCpu = cpu;
  }

  /** One line: the total, then each phase, as wall/CPU milliseconds. */
  synchronized String summary() {
    return what + " in " + ms(lastNanos - startNanos) + " ms wall, " + ms(lastCpu - startCpu)
        + " ms CPU (wall/CPU ms: " + String.join(", ", phases) + ")";
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  /** CPU time of every thread of this JVM; 0 where the platform does not tell. */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(0, os.getProcessCpuTime());
    }
    return 0;
  }
}
