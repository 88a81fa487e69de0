package dev.stagefarm.coordinator;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JVM's CPU between two samples, by thread and by part of the bench ({@link DispatchBench}):
 * the coordinator, the synthetic workers, the bench's own task counter, S3, and the rest (the
 * broker's threads, in the Kafka-backed farm), the JIT's compilers and the GC (their threads in
 * /proc: ThreadMXBean does not list them), and the rest of the process's CPU. A virtual thread's CPU is its carrier's
 * ({@code ForkJoinPool-N-worker-M}), shown on its own.
 */
final class DispatchCpu {
  /** The coordinator's threads: its own, its producer's network thread, gRPC, its consumers' heartbeats. */
  static final List<String> COORDINATOR =
      List.of("stagefarm-", "kafka-producer-network-thread | stagefarm-coordinator", "grpc-");
  private static final Map<String, List<String>> PARTS = new LinkedHashMap<>();

  static {
    PARTS.put("coordinator", COORDINATOR);
    PARTS.put("synthetic workers", List.of("synthetic-", "kafka-producer-network-thread | synthetic-workers",
        "consumer_background_thread", "ShareConsumer"));
    PARTS.put("task counter (bench)", List.of("task-counter"));
    PARTS.put("virtual-thread carriers", List.of("ForkJoinPool-"));
    PARTS.put("S3 (S3Proxy, client)", List.of("qtp", "OkHttp", "S3Proxy"));
    PARTS.put("bench main", List.of("main", "heap-sampler"));
  }

  /**
   * The JVM's own threads that no ThreadMXBean lists, by the name Linux knows them by
   * ({@code /proc/self/task/N/comm}): the JIT's compilers and the garbage collector.
   */
  private static final Map<String, List<String>> VM_PARTS = new LinkedHashMap<>();

  static {
    VM_PARTS.put("JIT compilers", List.of("C1 CompilerThre", "C2 CompilerThre"));
    VM_PARTS.put("GC", List.of("GC Thread", "G1 "));
  }

  /** What a sample holds: each live thread's CPU nanoseconds, the process's, and the VM parts' (from /proc). */
  record Sample(Map<Long, Long> threads, long process, Map<String, Long> vm) {
    static Sample now() {
      var mx = ManagementFactory.getThreadMXBean();
      Map<Long, Long> cpu = new HashMap<>();
      for (long id : mx.getAllThreadIds()) {
        long t = mx.getThreadCpuTime(id);
        if (t >= 0) {
          cpu.put(id, t);
        }
      }
      return new Sample(cpu, ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
          .getProcessCpuTime(), vmThreads());
    }

    /** The VM parts' CPU nanoseconds: utime + stime of their threads in /proc (clock ticks of 10 ms); empty without /proc. */
    private static Map<String, Long> vmThreads() {
      Map<String, Long> parts = new HashMap<>();
      java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
      for (java.io.File task : tasks == null ? new java.io.File[0] : tasks) {
        try {
          String comm = java.nio.file.Files.readString(task.toPath().resolve("comm")).strip();
          String part = VM_PARTS.entrySet().stream().filter(e -> e.getValue().stream().anyMatch(comm::startsWith))
              .map(Map.Entry::getKey).findFirst().orElse(null);
          if (part == null) {
            continue;
          }
          String stat = java.nio.file.Files.readString(task.toPath().resolve("stat"));
          // the fields after the command's closing parenthesis: state is field 3, utime 14, stime 15
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          parts.merge(part, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L, Long::sum);
        } catch (java.io.IOException | RuntimeException gone) {
          // the thread ended meanwhile
        }
      }
      return parts;
    }
  }

  record ThreadCpu(String name, long nanos) {}

  private final List<ThreadCpu> threads = new ArrayList<>();
  private final long process;
  private final Map<String, Long> vm = new LinkedHashMap<>();

  /** The CPU each thread alive at {@code to} used since {@code from} (since its start, when it started later). */
  DispatchCpu(Sample from, Sample to) {
    var mx = ManagementFactory.getThreadMXBean();
    for (var info : mx.getThreadInfo(to.threads().keySet().stream().mapToLong(Long::longValue).toArray())) {
      if (info != null) {
        threads.add(new ThreadCpu(info.getThreadName(),
            to.threads().get(info.getThreadId()) - from.threads().getOrDefault(info.getThreadId(), 0L)));
      }
    }
    threads.sort((a, b) -> Long.compare(b.nanos(), a.nanos()));
    process = to.process() - from.process();
    VM_PARTS.keySet().forEach(p -> vm.put(p, to.vm().getOrDefault(p, 0L) - from.vm().getOrDefault(p, 0L)));
  }

  long process() {
    return process;
  }

  long coordinator() {
    return threads.stream().filter(t -> COORDINATOR.stream().anyMatch(t.name()::startsWith))
        .mapToLong(ThreadCpu::nanos).sum();
  }

  /** The parts' CPU, the broker and the rest, the JIT's, the GC's, and the rest of the VM's, in that order. */
  Map<String, Long> byPart() {
    Map<String, Long> parts = new LinkedHashMap<>();
    PARTS.keySet().forEach(p -> parts.put(p, 0L));
    parts.put("broker and the rest", 0L);
    long inThreads = 0;
    for (ThreadCpu t : threads) {
      String part = PARTS.entrySet().stream()
          .filter(e -> e.getValue().stream().anyMatch(t.name()::startsWith))
          .map(Map.Entry::getKey).findFirst().orElse("broker and the rest");
      parts.merge(part, t.nanos(), Long::sum);
      inThreads += t.nanos();
    }
    long vmParts = 0;
    for (Map.Entry<String, Long> e : vm.entrySet()) {
      parts.put(e.getKey(), e.getValue());
      vmParts += e.getValue();
    }
    parts.put("rest of the VM (ended threads too)", Math.max(0, process - inThreads - vmParts));
    return parts;
  }

  List<ThreadCpu> busiest(int n) {
    return threads.stream().limit(n).toList();
  }
}
