package dev.stagefarm.farmrun;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FarmRunProtocolTest {
  private static final FarmRunProtocol.Hello HELLO = new FarmRunProtocol.Hello(FarmRunProtocol.VERSION, "t0k3n",
      "/work/ctx", FarmRunProtocol.TTY_STDERR, List.of("build", "-t", "x", "."), Map.of("FOO", "bär", "EMPTY", ""));

  @Test
  void aHelloComesBackAsItWasSent() throws Exception {
    assertThat(FarmRunProtocol.Hello.decode(HELLO.encode())).isEqualTo(HELLO);
  }

  @Test
  void aFrameComesBackAsItWasWrittenAndTheStreamEndsCleanlyBetweenFrames() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    FarmRunProtocol.write(out, FarmRunProtocol.STDOUT, "line\n".getBytes());
    FarmRunProtocol.writeInt(out, FarmRunProtocol.EXIT, 130);
    ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
    assertThat(FarmRunProtocol.read(in).text()).isEqualTo("line\n");
    assertThat(FarmRunProtocol.read(in).intBody()).isEqualTo(130);
    assertThat(FarmRunProtocol.read(in)).isNull();
  }

  @Test
  void aFrameOverItsLimitIsRefusedFromItsHeaderAlone() {
    byte[] header = {FarmRunProtocol.STDIN, 0, 1, 0, 1}; // 64 KiB + 1, no body at all
    assertThatThrownBy(() -> FarmRunProtocol.read(new ByteArrayInputStream(header)))
        .hasMessage("frame type 2 of 65537 bytes is over the limit of 65536 bytes");
    byte[] negative = {FarmRunProtocol.HELLO, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    assertThatThrownBy(() -> FarmRunProtocol.read(new ByteArrayInputStream(negative)))
        .hasMessageContaining("4294967295 bytes is over the limit");
  }

  @Test
  void truncatedFramesAndHellosAndUnknownTypesAreRefusedByName() throws Exception {
    assertThatThrownBy(() -> FarmRunProtocol.read(new ByteArrayInputStream(new byte[] {FarmRunProtocol.STDOUT, 0})))
        .hasMessage("truncated frame header");
    assertThatThrownBy(() -> FarmRunProtocol.read(new ByteArrayInputStream(new byte[] {FarmRunProtocol.STDOUT, 0, 0, 0, 9, 1})))
        .hasMessage("truncated frame: 1 of 9 bytes");
    assertThatThrownBy(() -> FarmRunProtocol.read(new ByteArrayInputStream(new byte[] {42, 0, 0, 0, 0})))
        .hasMessage("unknown frame type 42");
    byte[] hello = HELLO.encode();
    assertThatThrownBy(() -> FarmRunProtocol.Hello.decode(Arrays.copyOf(hello, hello.length - 1)))
        .hasMessage("the run request is truncated");
    byte[] longer = Arrays.copyOf(hello, hello.length + 2);
    assertThatThrownBy(() -> FarmRunProtocol.Hello.decode(longer)).hasMessage("the run request has 2 bytes after its end");
    byte[] notOurs = hello.clone();
    notOurs[0] = 'G';
    assertThatThrownBy(() -> FarmRunProtocol.Hello.decode(notOurs)).hasMessage("not a stagefarm run request (bad magic)");
  }

  @Test
  void anEnvironmentOverItsLimitIsRefused() throws Exception {
    String big = "x".repeat(FarmRunProtocol.MAX_ENV_BYTES / 2 + 1);
    byte[] hello = new FarmRunProtocol.Hello(FarmRunProtocol.VERSION, "t", "/", 0, List.of("build"),
        Map.of("A", big, "B", big)).encode();
    assertThatThrownBy(() -> FarmRunProtocol.Hello.decode(hello))
        .hasMessage("the environment is over the limit of " + FarmRunProtocol.MAX_ENV_BYTES + " bytes");
  }

  @Test
  void aNewerVersionIsReadAsSuchSoThatTheFarmCanAnswerWithAFallback() throws Exception {
    byte[] hello = new FarmRunProtocol.Hello(FarmRunProtocol.VERSION + 1, "t", "/", 0, List.of(), Map.of()).encode();
    assertThat(FarmRunProtocol.Hello.decode(hello).version()).isEqualTo(FarmRunProtocol.VERSION + 1);
  }
}
