package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.runtime.Runc;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A RUN's output on its way to the user: cut into chunks (flushed at 16 KiB or every 250 ms),
 * rate-limited and bounded per stage (the excess is dropped, once announced by a marker), and the
 * last lines kept for the failure message. The build's secret values are masked first ({@link
 * SecretRedactor}, one per stream), so neither the streamed chunks nor the failure's output tail
 * carry them.
 */
final class RunOutput implements Runc.OutputSink {
  private static final int CHUNK = 16 * 1024;
  private static final long FLUSH_NANOS = 250_000_000L;
  private static final int TAIL_LINES = 20;
  private static final int TAIL_BYTES = 4096;

  private final StageProgress progress;
  private final int instruction;
  private final OutputBudget budget;
  private final SecretRedactor stdoutRedactor;
  private final SecretRedactor stderrRedactor;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private final ByteArrayOutputStream tail = new ByteArrayOutputStream();
  private boolean pendingStderr;
  private long lastFlush = System.nanoTime();
  private boolean announcedDrop;

  RunOutput(StageProgress progress, int instruction, OutputBudget budget) {
    this(progress, instruction, budget, java.util.List.of());
  }

  /** @param secrets the build's secret values, masked wherever the RUN prints them */
  RunOutput(StageProgress progress, int instruction, OutputBudget budget, java.util.List<byte[]> secrets) {
    this.progress = progress;
    this.instruction = instruction;
    this.budget = budget;
    this.stdoutRedactor = new SecretRedactor(secrets);
    this.stderrRedactor = new SecretRedactor(secrets);
  }

  @Override
  public synchronized void write(byte[] buffer, int length, boolean stderr) {
    byte[] masked = (stderr ? stderrRedactor : stdoutRedactor).write(buffer, length);
    accept(masked, stderr);
  }

  /** The RUN ended: what the redactors held back (the start of a value that never came) goes out too. */
  synchronized void finish() {
    accept(stdoutRedactor.finish(), false);
    accept(stderrRedactor.finish(), true);
    flush();
  }

  private void accept(byte[] buffer, boolean stderr) {
    int length = buffer.length;
    if (length == 0) {
      return;
    }
    keepTail(buffer, length);
    if (pending.size() > 0 && stderr != pendingStderr) {
      flush();
    }
    pendingStderr = stderr;
    pending.write(buffer, 0, length);
    if (pending.size() >= CHUNK || System.nanoTime() - lastFlush > FLUSH_NANOS) {
      flush();
    }
  }

  synchronized void flush() {
    lastFlush = System.nanoTime();
    if (pending.size() == 0) {
      return;
    }
    byte[] data = pending.toByteArray();
    pending.reset();
    int allowed = budget.take(data.length);
    if (allowed > 0) {
      byte[] send = allowed == data.length ? data : java.util.Arrays.copyOf(data, allowed);
      progress.log(instruction, send, pendingStderr);
    }
    if (allowed < data.length && !announcedDrop) {
      announcedDrop = true;
      progress.log(instruction, ("\n[stagefarm: output over the log limit is not streamed; "
          + "the failure message still carries the last lines]\n").getBytes(StandardCharsets.UTF_8), true);
    }
  }

  /**
   * Flushes what is pending every 250 ms until the returned handle is closed: a RUN that prints a
   * line and then works quietly for minutes still shows that line at once.
   */
  AutoCloseable flushPeriodically() {
    Thread flusher = Thread.ofVirtual().name("run-output-flush").start(() -> {
      try {
        while (!Thread.currentThread().isInterrupted()) {
          Thread.sleep(FLUSH_NANOS / 1_000_000);
          flush();
        }
      } catch (InterruptedException stopped) {
        // the RUN ended
      }
    });
    return flusher::interrupt;
  }

  /** The last lines of the output (stdout and stderr interleaved as they came). */
  synchronized String tail() {
    String text = tail.toString(StandardCharsets.UTF_8);
    Deque<String> lines = new ArrayDeque<>();
    for (String line : text.split("\n", -1)) {
      lines.addLast(line);
      if (lines.size() > TAIL_LINES + 1) {
        lines.removeFirst();
      }
    }
    return String.join("\n", lines).strip();
  }

  private void keepTail(byte[] buffer, int length) {
    tail.write(buffer, 0, length);
    if (tail.size() > 2 * TAIL_BYTES) {
      byte[] all = tail.toByteArray();
      tail.reset();
      tail.write(all, all.length - TAIL_BYTES, TAIL_BYTES);
    }
  }

  /** Per-stage limits on streamed output: a token bucket (bytes per second) and a total cap. */
  static final class OutputBudget {
    private final long ratePerSecond;
    private final java.util.function.LongSupplier nanoClock;
    private long remainingTotal;
    private double tokens;
    private long lastRefill;

    OutputBudget(long ratePerSecond, long maxTotal) {
      this(ratePerSecond, maxTotal, System::nanoTime);
    }

    OutputBudget(long ratePerSecond, long maxTotal, java.util.function.LongSupplier nanoClock) {
      this.ratePerSecond = ratePerSecond;
      this.remainingTotal = maxTotal;
      this.nanoClock = nanoClock;
      this.tokens = ratePerSecond; // one second of burst
      this.lastRefill = nanoClock.getAsLong();
    }

    /** How many of {@code wanted} bytes may be sent now. */
    synchronized int take(int wanted) {
      long now = nanoClock.getAsLong();
      tokens = Math.min(ratePerSecond, tokens + (now - lastRefill) / 1e9 * ratePerSecond);
      lastRefill = now;
      long allowed = Math.min(wanted, Math.min((long) tokens, remainingTotal));
      allowed = Math.max(0, allowed);
      tokens -= allowed;
      remainingTotal -= allowed;
      return (int) allowed;
    }
  }
}
