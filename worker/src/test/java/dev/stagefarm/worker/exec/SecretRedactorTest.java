package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SecretRedactorTest {
  private static final String TOKEN = "tok-4f9a2c";

  private static String redact(List<String> secrets, String... writes) {
    SecretRedactor redactor = new SecretRedactor(secrets.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String write : writes) {
      byte[] bytes = write.getBytes(StandardCharsets.UTF_8);
      out.writeBytes(redactor.write(bytes, bytes.length));
    }
    out.writeBytes(redactor.finish());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void everyOccurrenceOfAValueIsMasked() {
    assertThat(redact(List.of(TOKEN), "token=" + TOKEN + "\nagain " + TOKEN + TOKEN + " end\n"))
        .isEqualTo("token=****\nagain ******** end\n");
  }

  @Test
  void aValueSplitAtAnyPlaceOverAnyNumberOfWritesIsMasked() {
    String text = "before " + TOKEN + " after";
    for (int first = 0; first <= text.length(); first++) {
      for (int second = first; second <= text.length(); second++) {
        assertThat(redact(List.of(TOKEN), text.substring(0, first), text.substring(first, second), text.substring(second)))
            .as("split at %d and %d", first, second).isEqualTo("before **** after");
      }
    }
    // one byte per write
    assertThat(redact(List.of(TOKEN), text.split(""))).isEqualTo("before **** after");
  }

  @Test
  void heldBackBytesAreOnlyAPossibleStartOfAValueAndComeOutAtTheEnd() {
    SecretRedactor redactor = new SecretRedactor(List.of(TOKEN.getBytes(StandardCharsets.UTF_8)));
    byte[] start = "line\ntok-4f".getBytes(StandardCharsets.UTF_8);
    assertThat(new String(redactor.write(start, start.length), StandardCharsets.UTF_8)).isEqualTo("line\n");
    byte[] other = "x".getBytes(StandardCharsets.UTF_8);
    assertThat(new String(redactor.write(other, 1), StandardCharsets.UTF_8)).isEqualTo("tok-4fx"); // not the value after all
    byte[] prefix = "tok".getBytes(StandardCharsets.UTF_8);
    assertThat(redactor.write(prefix, prefix.length)).isEmpty();
    assertThat(new String(redactor.finish(), StandardCharsets.UTF_8)).isEqualTo("tok"); // the stream ended
  }

  @Test
  void eachLongEnoughLineOfAMultiLineValueIsMaskedToo() {
    String pem = "-----BEGIN KEY-----\r\nMIIEvQIBADANBgkq\nab\n-----END KEY-----\n";
    assertThat(redact(List.of(pem), "key: " + pem)).isEqualTo("key: ****");
    // printed line by line (e.g. by a tool that re-indents it): each line of 4+ bytes is masked
    assertThat(redact(List.of(pem), "  MIIEvQIBADANBgkq\n  ab\n")).isEqualTo("  ****\n  ab\n");
  }

  @Test
  void theLongerOfTwoOverlappingValuesWins() {
    assertThat(redact(List.of("abcd", "abcdefgh"), "xabcdefghx abcdx")).isEqualTo("x****x ****x");
  }

  @Test
  void withoutSecretsOutputPassesUnchanged() {
    assertThat(redact(List.of(), "anything ", "at all")).isEqualTo("anything at all");
    assertThat(redact(List.of(""), "empty values mask nothing")).isEqualTo("empty values mask nothing");
  }

  @Test
  void runOutputMasksStreamedChunksAndTheFailureTail() {
    StringBuilder streamed = new StringBuilder();
    dev.stagefarm.worker.StageProgress sink = new dev.stagefarm.worker.StageProgress() {
      @Override
      public void instructionStarted(int index) {}

      @Override
      public void log(int index, byte[] data, boolean stderr) {
        streamed.append(new String(data, StandardCharsets.UTF_8));
      }

      @Override
      public void instructionDone(int index, java.util.Optional<dev.stagefarm.worker.store.LayerRef> layer,
          boolean cached, long startedMs, long finishedMs) {}
    };
    RunOutput out = new RunOutput(sink, 0, new RunOutput.OutputBudget(1 << 20, 1 << 20),
        List.of(TOKEN.getBytes(StandardCharsets.UTF_8)));
    byte[] a = "the token is tok-4".getBytes(StandardCharsets.UTF_8);
    byte[] b = "f9a2c\nbye\n".getBytes(StandardCharsets.UTF_8);
    out.write(a, a.length, false);
    out.flush(); // a periodic flush between the two halves
    out.write(b, b.length, false);
    out.finish();
    assertThat(streamed.toString()).isEqualTo("the token is ****\nbye\n");
    assertThat(out.tail()).isEqualTo("the token is ****\nbye");
  }
}
