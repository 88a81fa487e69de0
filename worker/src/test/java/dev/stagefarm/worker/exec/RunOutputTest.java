package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.worker.StageProgress;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunOutputTest {
  /** Collects log chunks (a fake sink: this is pure logic). */
  private static final class Chunks implements StageProgress {
    final List<byte[]> chunks = new ArrayList<>();
    final ByteArrayOutputStream all = new ByteArrayOutputStream();

    @Override
    public void instructionStarted(int index) {}

    @Override
    public void log(int index, byte[] data, boolean stderr) {
      chunks.add(data);
      all.writeBytes(data);
    }

    @Override
    public void instructionDone(int index, java.util.Optional<dev.stagefarm.worker.store.LayerRef> layer, boolean cached, long startedMs, long finishedMs) {}
  }

  @Test
  void chunksAreBoundedAndTheTotalIsCappedWithOneMarker() {
    Chunks sink = new Chunks();
    RunOutput out = new RunOutput(sink, 0, new RunOutput.OutputBudget(1 << 20, 40 * 1024));
    byte[] line = "0123456789abcdef\n".getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 10_000; i++) { // 170 KB
      out.write(line, line.length, false);
    }
    out.flush();
    assertThat(sink.chunks).allSatisfy(c -> assertThat(c.length).isLessThanOrEqualTo(17 * 1024 + 200));
    String streamed = sink.all.toString(StandardCharsets.UTF_8);
    assertThat(streamed.length()).isLessThan(41 * 1024 + 200);
    assertThat(streamed.split("not streamed", -1)).hasSize(2); // exactly one marker
    assertThat(out.tail()).endsWith("0123456789abcdef");
    assertThat(out.tail().split("\n")).hasSizeLessThanOrEqualTo(21);
  }

  @Test
  void theRateLimitDropsABurstBeyondOneSecondOfBudget() {
    long[] now = {0};
    RunOutput.OutputBudget budget = new RunOutput.OutputBudget(1000, 1 << 20, () -> now[0]);
    assertThat(budget.take(800)).isEqualTo(800);
    assertThat(budget.take(800)).isEqualTo(200); // the rest of the first second's burst
    now[0] += 500_000_000L; // half a second later: 500 more bytes
    assertThat(budget.take(800)).isEqualTo(500);
  }
}
